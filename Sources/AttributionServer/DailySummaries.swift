import AttributionCore
import AttributionStore

/// The dashboard's daily rollups: each UTC click day's summaries, counted once and kept, so that a page over a
/// million clicks adds up a few days instead of reading every click. A day is counted again when rows stored
/// since it was counted can change it (`Store.changedDays`), or after a purge. The rollups live in memory, per
/// instance; every figure is the one `report summary` gives for the same days.
actor DailySummaries {
    /// Totals (with the latency histogram), then days and the breakdowns (without: their percentiles are not shown).
    static let groupings: [[SummaryReport.Key]] = [[], [.day], [.productID], [.clickComponent], [.slug], [.wabaID]]
    /// Days kept; the least recently used go first.
    static let capacity = 120
    /// How far back the change check reaches past the previous check: PostgreSQL may commit a lower id after a
    /// higher one has been seen, but never later than a write's 5 s timeout.
    static let overlap: Duration = .seconds(30)

    private struct Day {
        var reports: [SummaryReport]
        var lastUsed: UInt64
    }

    private let store: any Store
    let windowMilliseconds: Int64
    private var days: [Int64: Day] = [:]
    private var checks: [(at: ContinuousClock.Instant, marks: ChangeMarks)] = []
    private var uses: UInt64 = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Days counted from the database, for tests and the bench.
    private(set) var countedDays = 0

    init(store: any Store, windowMilliseconds: Int64) {
        self.store = store
        self.windowMilliseconds = windowMilliseconds
    }

    /// The summaries of `DailySummaries.groupings` over the click days `range` (day numbers since the epoch).
    func reports(days range: ClosedRange<Int64>) async throws -> [SummaryReport] {
        // One request at a time: a day is never counted twice at once, and the change marks stay in order.
        await acquire()
        defer { release() }
        let marks = try await store.changeMarks()
        try await forgetChangedDays(current: marks)
        var total = Self.groupings.map { SummaryReport(keys: $0) }
        for day in range {
            uses += 1
            let reports: [SummaryReport]
            if let cached = days[day] {
                reports = cached.reports
                days[day]?.lastUsed = uses
            } else {
                reports = try await count(day)
                keep(day, reports)
            }
            for index in total.indices { total[index].merge(reports[index]) }
        }
        checks.append((ContinuousClock.now, marks))
        return total
    }

    /// Drops the days that rows stored since the last check (reaching `overlap` further back) can change.
    private func forgetChangedDays(current: ChangeMarks) async throws {
        guard !days.isEmpty, let first = checks.first else {
            days = [:]
            checks = []
            return
        }
        let reach = ContinuousClock.now - Self.overlap
        let base = checks.last(where: { $0.at <= reach }) ?? first
        checks.removeAll { $0.at < base.at }
        if current.purges != base.marks.purges {
            days = [:]
            return
        }
        for day in try await store.changedDays(since: base.marks) { days[day] = nil }
    }

    private func count(_ day: Int64) async throws -> [SummaryReport] {
        countedDays += 1
        let query = ReportQuery(from: day * 86_400_000, to: (day + 1) * 86_400_000, windowMilliseconds: windowMilliseconds)
        let reports = try await store.summaries(query, groupings: Self.groupings)
        return reports.enumerated().map { index, report in index == 0 ? report : report.withoutLatencies() }
    }

    private func keep(_ day: Int64, _ reports: [SummaryReport]) {
        days[day] = Day(reports: reports, lastUsed: uses)
        if days.count > Self.capacity, let oldest = days.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            days[oldest.key] = nil
        }
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
