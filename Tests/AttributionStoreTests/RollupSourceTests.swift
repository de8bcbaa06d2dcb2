import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Testing

/// What the dashboard's rollups read from each database: summaries split by hour that add up to the whole, the
/// latest clicks, and the hours that new rows can change.
@Suite struct RollupSourceTests {
    static let t = ClickReportTests.t
    static let hour: Int64 = 3_600_000
    static let window = ClickReportTests.window

    static func hourOf(_ time: Int64) -> Int64 { time.floorDivided(by: hour).quotient }

    @Test(arguments: StoreKind.allCases)
    func hourlyPartsAddUpToTheWholeSummary(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await ClickReportTests.scenario(store)
        let templates = [SummaryReport(keys: []), SummaryReport(keys: [.day, .slug], keepsLatencies: false)]
        let query = ReportQuery(from: Self.t - Self.day, to: Self.t + 3 * Self.day, windowMilliseconds: Self.window)
        let parts = try await store.summaries(query, of: templates, partMilliseconds: Self.hour)
        // Clicks by the hour of their time, the orphan by its visit's hour.
        #expect(Set(parts.keys) == [Self.hourOf(Self.t), Self.hourOf(Self.t + Self.day)])
        var merged = templates
        for (_, reports) in parts {
            for index in merged.indices { merged[index].merge(reports[index]) }
        }
        let whole = try await store.summaries(query, of: templates, partMilliseconds: nil)
        #expect(whole.keys.sorted() == [0])
        #expect(merged[0].rows == whole[0]![0].rows)
        #expect(merged[1].rows == whole[0]![1].rows)
        #expect(merged[0].rows == (try await store.summary(query, groupBy: [])).rows)
        // Without histograms the percentiles read empty; the counts stay.
        let bySlug = try await store.summary(query, groupBy: [.day, .slug])
        #expect(merged[1].rows.map { Array($0.prefix(7)) } == bySlug.rows.map { Array($0.prefix(7)) })
        #expect(merged[1].rows.allSatisfy { $0[7] == .number(nil) })
    }

    static let day = ClickReportTests.day

    @Test(arguments: StoreKind.allCases)
    func theLatestClicksComeNewestFirst(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await ClickReportTests.scenario(store)
        let all = try await ClickReportTests.rows(store).values.sorted { ($0.clickedAt, $0.clickID) > ($1.clickedAt, $1.clickID) }
        let latest = try await store.latestClicks(ReportQuery(from: nil, to: nil, windowMilliseconds: Self.window), limit: 3)
        #expect(latest.map(\.clickID) == all.prefix(3).map(\.clickID))
        #expect(latest == Array(all.prefix(3)))
        let firstDay = try await store.latestClicks(ReportQuery(from: Self.t, to: Self.t + Self.day, windowMilliseconds: Self.window), limit: 10)
        #expect(firstDay.first?.clickID == "F" && firstDay.count == 6)
    }

    @Test(arguments: StoreKind.allCases)
    func theChangedHoursAreThoseNewRowsCanChange(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await ClickReportTests.scenario(store)
        let marks = try await store.changeMarks()
        #expect(try await store.changedHours(since: marks).isEmpty)

        // A visit to click G (a day later): G's hour, and the visit's own hour (it has a click id).
        let late = Self.t + 3 * Self.day
        try await store.recordVisits([ClickReportTests.visit("G", at: late)])
        #expect(try await store.changedHours(since: marks) == [Self.hourOf(Self.t + Self.day), Self.hourOf(late)])

        // A conversion for click C: C's hour.
        let afterVisit = try await store.changeMarks()
        _ = try await store.recordConversion(
            try ClickReportTests.conversion("C", "1", "EUR", at: Self.t + 9_000, order: "new"), receivedAt: late,
            lookback: Self.window)
        #expect(try await store.changedHours(since: afterVisit) == [Self.hourOf(Self.t)])

        // A new click claiming the orphan visit of "nobody": the click's hour, and the visit's hour.
        let afterConversion = try await store.changeMarks()
        _ = try await store.ingest([
            WebhookDelivery(
                body: Array("claim".utf8), bodySHA256: "claim", receivedAt: late, source: .http,
                actions: [ClickReportTests.click("nobody", at: Self.t + 2 * Self.day)])
        ])
        #expect(try await store.changedHours(since: afterConversion) == [Self.hourOf(Self.t + 2 * Self.day), Self.hourOf(Self.t)])

        // A purge that deletes rows moves the purge count.
        let beforePurge = try await store.changeMarks()
        _ = try await Retention.purge(store, before: Self.t + 10 * Self.day)
        let afterPurge = try await store.changeMarks()
        #expect(afterPurge.purges > beforePurge.purges)
    }
}
