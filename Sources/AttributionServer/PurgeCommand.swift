import AttributionCore
import AttributionStore
import Foundation

/// `clickattr purge --older-than DAYS [--vacuum]`: retention, from the command line or the daily run of `serve`.
public enum PurgeCommand {
    /// Checks DAYS against the attribution window: anything younger could still come back from Meta's
    /// redeliveries (7 days) or late conversions and be stored as new.
    public static func validate(days: Int, config: ClickattrConfig, flag: String = "--older-than") throws(UsageError) {
        let least = config.attribution.windowDays + 1
        guard days >= least else {
            throw UsageError(
                "\(flag) \(days) is too recent: it must be at least attribution.window_days + 1 (\(least)), so that redeliveries and late conversions cannot come back as new rows")
        }
        guard days <= 36_500 else { throw UsageError("\(flag) must be at most 36500 days") }
    }

    /// The instant before which data goes.
    public static func cutoff(days: Int, now: Int64) -> Int64 {
        now - Int64(days) * 86_400_000
    }

    /// Purges, vacuums when asked, and returns the lines to print.
    public static func run(
        config: ClickattrConfig, days: Int, vacuum: Bool, now: Int64 = Clock.milliseconds()
    ) async throws -> [String] {
        try validate(days: days, config: config)
        let store = try makeStore(config: config)
        try await store.migrate()
        let cutoff = cutoff(days: days, now: now)
        let counts = try await Retention.purge(store, before: cutoff)
        var lines = ["purged what is older than \(Timestamp.format(cutoff)) (\(days) days): " + describe(counts)]
        if vacuum {
            let before = databaseBytes(config)
            try await store.vacuum()
            let after = databaseBytes(config)
            lines.append("vacuumed: \(before / 1_048_576) MiB -> \(after / 1_048_576) MiB")
        }
        return lines
    }

    public static func describe(_ counts: PurgeCounts) -> String {
        "\(counts.clicks) clicks, \(counts.visits) visits, \(counts.otherActions) landing page views and other actions, "
            + "\(counts.conversions) conversions, \(counts.deliveries) raw deliveries"
    }

    private static func databaseBytes(_ config: ClickattrConfig) -> Int {
        let path = config.storage.sqlitePath
        return [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }
}
