import AttributionCore
import AttributionStore
import Logging
import ServiceLifecycle

/// The dashboard's rollups: each hour's summaries (clicks by their hour, orphan visits by theirs), counted once
/// and kept, so that a page over a million clicks adds up a few hundred hours instead of reading every click.
/// An hour is counted again when rows stored since it was counted can change it (`Store.changedHours`), or after
/// a purge; under live traffic that is the last hour or two. The rollups live in memory, per instance; every
/// figure is the one `report summary` gives for the same days.
actor SummaryRollups {
    /// Totals (with the latency histogram), then days and the breakdowns (without: their percentiles are not shown).
    static let templates: [SummaryReport] = [SummaryReport(keys: [])]
        + [[.day], [.productID], [.clickComponent], [.slug], [.wabaID]].map { SummaryReport(keys: $0, keepsLatencies: false) }
    static let hour: Int64 = 3_600_000
    /// Latency histogram buckets kept in all hours together (about 40 bytes each); past it the least recently
    /// used hours go.
    static let bucketBudget = 1_500_000
    /// How far back the change check reaches past the previous check: PostgreSQL may commit a lower id after a
    /// higher one has been seen, but never later than a write's 5 s timeout.
    static let overlap: Duration = .seconds(30)

    private struct Hour {
        var reports: [SummaryReport]
        var buckets: Int
        var lastUsed: UInt64
    }

    private let store: any Store
    let windowMilliseconds: Int64
    private var hours: [Int64: Hour] = [:]
    private var buckets = 0
    private var checks: [(at: ContinuousClock.Instant, marks: ChangeMarks)] = []
    private var uses: UInt64 = 0
    private var busy = false
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var waiters: UInt64 = 0

    init(store: any Store, windowMilliseconds: Int64) {
        self.store = store
        self.windowMilliseconds = windowMilliseconds
    }

    /// The summaries of `SummaryRollups.templates` over the UTC click days `days` (day numbers since the epoch).
    func reports(days: ClosedRange<Int64>) async throws -> [SummaryReport] {
        // One request at a time: an hour is never counted twice at once, and the change marks stay in order.
        try await acquire()
        defer { release() }
        let marks = try await store.changeMarks()
        try await forgetChangedHours(current: marks)
        let range = (days.lowerBound * 24)..<((days.upperBound + 1) * 24)
        // Missing hours are counted a run at a time, in one pass per run.
        var start: Int64?
        for hour in range.lowerBound...range.upperBound {
            if hour < range.upperBound, hours[hour] == nil {
                if start == nil { start = hour }
            } else if let first = start {
                try await count(first..<hour)
                start = nil
            }
        }
        var total = Self.templates
        for hour in range {
            uses += 1
            hours[hour]?.lastUsed = uses
            guard let reports = hours[hour]?.reports else { continue }
            for index in total.indices { total[index].merge(reports[index]) }
        }
        checks.append((ContinuousClock.now, marks))
        evict(keeping: range)
        return total
    }

    /// Drops the hours that rows stored since the last check (reaching `overlap` further back) can change.
    private func forgetChangedHours(current: ChangeMarks) async throws {
        guard !hours.isEmpty, let first = checks.first else {
            hours = [:]
            buckets = 0
            checks = []
            return
        }
        let reach = ContinuousClock.now - Self.overlap
        let base = checks.last(where: { $0.at <= reach }) ?? first
        checks.removeAll { $0.at < base.at }
        if current.purges != base.marks.purges {
            hours = [:]
            buckets = 0
            return
        }
        for hour in try await store.changedHours(since: base.marks) {
            if let gone = hours.removeValue(forKey: hour) { buckets -= gone.buckets }
        }
    }

    /// Counts the hours `run` in one pass; an hour without data is kept as empty.
    private func count(_ run: Range<Int64>) async throws {
        let query = ReportQuery(from: run.lowerBound * Self.hour, to: run.upperBound * Self.hour, windowMilliseconds: windowMilliseconds)
        let parts = try await store.summaries(query, of: Self.templates, partMilliseconds: Self.hour)
        for hour in run {
            let reports = parts[hour] ?? Self.templates
            let size = reports[0].latencies(group: []).bucketCount
            hours[hour] = Hour(reports: reports, buckets: size, lastUsed: uses)
            buckets += size
        }
    }

    /// Over the budget, the least recently used hours outside the page just served go first.
    private func evict(keeping range: Range<Int64>) {
        guard buckets > Self.bucketBudget else { return }
        for (hour, entry) in hours.sorted(by: { $0.value.lastUsed < $1.value.lastUsed }) where !range.contains(hour) {
            hours[hour] = nil
            buckets -= entry.buckets
            if buckets <= Self.bucketBudget { return }
        }
    }

    /// Waits for the page before this one to finish; a page that gives up (its time is over) leaves the queue.
    private func acquire() async throws {
        if !busy {
            busy = true
            return
        }
        let id = waiters
        waiters += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.abandon(id) }
        }
    }

    private func abandon(_ id: UInt64) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().continuation.resume()
        }
    }
}

/// Counts the rollups of the default page (the last 7 days) and of the 7 days up to the newest click once at
/// start-up, so that the first person to open the dashboard does not wait for a million clicks to be read.
struct RollupWarmer: Service {
    let rollups: SummaryRollups
    let store: any Store
    let logger: Logger
    let now: @Sendable () -> Int64

    func run() async throws {
        // Stopping the service cancels the count (a database that does not answer must not hold up shutdown).
        try? await cancelWhenGracefulShutdown { await count() }
        try? await gracefulShutdown()
    }

    private func count() async {
        let start = ContinuousClock.now
        do {
            let today = now().floorDivided(by: 86_400_000).quotient
            _ = try await rollups.reports(days: (today - 6)...today)
            let query = ReportQuery(from: nil, to: nil, windowMilliseconds: rollups.windowMilliseconds)
            if let newest = try await store.latestClicks(query, limit: 1).first {
                let day = newest.clickedAt.floorDivided(by: 86_400_000).quotient
                if day < today - 6 { _ = try await rollups.reports(days: (day - 6)...day) }
            }
            logger.info("dashboard rollups counted in \(ContinuousClock.now - start)")
        } catch {
            logger.warning("dashboard rollups not counted at start-up (the first page counts them): \(error)")
        }
    }
}
