import AttributionStore
import Logging
import ServiceLifecycle

/// `retention.days` in `serve`: a purge a minute after start-up, then once a day, in the same short batches as
/// `clickattr purge`, so that the writer is never held for long.
struct DailyPurge: Service {
    let store: any Store
    let days: Int
    let logger: Logger
    let now: @Sendable () -> Int64
    var firstDelay: Duration = .seconds(60)
    var interval: Duration = .seconds(86_400)

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await Task.sleep(for: firstDelay)
            while true {
                await purgeOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    func purgeOnce() async {
        let cutoff = PurgeCommand.cutoff(days: days, now: now())
        do {
            let counts = try await Retention.purge(store, before: cutoff)
            logger.info("retention: purged what is older than \(days) days: \(PurgeCommand.describe(counts))")
        } catch {
            // Tried again tomorrow; nothing is lost by waiting.
            logger.error("retention: purge failed: \(error)")
        }
    }
}
