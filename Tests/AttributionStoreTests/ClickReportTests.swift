import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Testing

/// The join rules of `report clicks`, one by one, over a real database of each kind.
@Suite struct ClickReportTests {
    static let t: Int64 = 1_764_331_200_000
    static let day: Int64 = 86_400_000
    static let window = 7 * day

    static func click(_ id: String, at time: Int64, token: String? = nil) -> UserAction {
        UserAction(
            key: "click-\(id)", actionType: UserAction.linkClick, occurredAt: time, wabaID: "waba", phoneNumberID: "phone",
            clickID: id, trackingToken: token, clickComponent: "cta", productID: "sku", rawJSON: "{}")
    }

    static func view(_ key: String, click: String?, token: String?) -> UserAction {
        UserAction(
            key: "view-\(key)", actionType: UserAction.landingPageView, occurredAt: t, clickID: click,
            trackingToken: token, rawJSON: "{}")
    }

    static func visit(_ click: String, at time: Int64, bot: Bool = false) -> Visit {
        Visit(
            visitedAt: time, method: "GET", path: "/s", slug: "s", clickID: click, clickParameters: ["click_id": click],
            clickIDProblem: nil, visitorID: "v", userAgent: "ua", referrer: nil, ip: nil,
            botReason: bot ? "meta_crawler" : nil)
    }

    static func conversion(_ click: String, _ value: String?, _ currency: String?, at time: Int64, order: String) throws
        -> Conversion
    {
        Conversion(
            event: "purchase", clickID: click, visitorID: nil, valueMicros: try value.map(Money.parse), currency: currency,
            orderID: order, occurredAt: time, source: .api)
    }

    /// A visit that arrives before its click's webhook, bots, late and early visits, conversions in several currencies.
    static func scenario(_ store: any Store) async throws {
        try await store.migrate()
        try await store.recordVisits([
            visit("F", at: t + 4 * 1000),  // stored before its click's webhook arrives
            visit("A", at: t + 100, bot: true), visit("A", at: t + 2_500), visit("A", at: t + 9_000),
            visit("B", at: t + 1_000 - 400),
            visit("D", at: t + 50, bot: true), visit("D", at: t + 60, bot: true),
            visit("E", at: t + 8 * day),
            visit("nobody", at: t),
        ])
        _ = try await store.ingest([
            WebhookDelivery(
                body: Array("first".utf8), bodySHA256: "first", receivedAt: t, source: .http,
                actions: [
                    click("A", at: t, token: "tA"), click("B", at: t + 1_000), click("C", at: t + 2_000),
                    click("D", at: t + 3_000), click("E", at: t + 3_500), click("G", at: t + day),
                    view("a", click: "other-id", token: "tA"), view("b", click: "B", token: nil),
                ])
        ])
        _ = try await store.ingest([
            WebhookDelivery(
                body: Array("late".utf8), bodySHA256: "late", receivedAt: t + 2 * day, source: .http,
                actions: [click("F", at: t + 4_000)])
        ])
        for item in [
            try conversion("A", "24.99", "EUR", at: t + 60_000, order: "1"),
            try conversion("A", "0.01", "EUR", at: t + 2 * day, order: "2"),
            try conversion("A", nil, nil, at: t + 3 * day, order: "3"),
            try conversion("B", "10", "EUR", at: t + 5_000, order: "4"),
            try conversion("B", "5", "USD", at: t + 6_000, order: "5"),
            try conversion("C", "99", "EUR", at: t + 2_000 + 8 * day, order: "6"),
        ] {
            _ = try await store.recordConversion(item, receivedAt: t, lookback: window)
        }
    }

    static func rows(_ store: any Store, from: Int64? = nil, to: Int64? = nil, pageSize: Int = 1_000) async throws
        -> [String: ClickReportRow]
    {
        var all: [ClickReportRow] = []
        var cursor: ReportCursor?
        repeat {
            let page = try await store.clickReportPage(
                ReportQuery(from: from, to: to, windowMilliseconds: window), after: cursor, limit: pageSize)
            all += page.rows
            cursor = page.next
        } while cursor != nil
        #expect(all.map(\.clickedAt) == all.map(\.clickedAt).sorted())
        return Dictionary(uniqueKeysWithValues: all.map { ($0.clickID, $0) })
    }

    @Test(arguments: StoreKind.allCases)
    func joinsEachClickWithItsVisitsViewsAndConversions(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await Self.scenario(store)
        let rows = try await Self.rows(store)
        #expect(rows.keys.sorted() == ["A", "B", "C", "D", "E", "F", "G"])

        let a = try #require(rows["A"])
        #expect(a.firstVisitAt == Self.t + 2_500)
        #expect(a.clickToVisitMilliseconds == 2_500)
        #expect(a.visits == 2)
        #expect(a.botVisits == 1)
        #expect(a.status == .visited)
        #expect(a.landingPageViewed)  // by tracking token
        #expect(a.conversions == 3)
        #expect(a.conversionValueText == "25.00")

        let b = try #require(rows["B"])
        #expect(b.clickToVisitMilliseconds == -400)  // within the webhook's 1 s resolution: kept, not clamped
        #expect(b.landingPageViewed)  // by click id
        #expect(b.conversionValueText == "10.00 EUR; 5.00 USD")

        let c = try #require(rows["C"])
        #expect(c.status == .clickedOnly)
        #expect(c.firstVisitAt == nil && c.clickToVisitMilliseconds == nil)
        #expect(!c.landingPageViewed)
        #expect(c.conversions == 0)  // its conversion came after the window
        #expect(c.conversionValueText == nil)

        let d = try #require(rows["D"])
        #expect(d.status == .clickedOnly)  // bot-only visits are never the human visit
        #expect(d.visits == 0 && d.botVisits == 2)

        #expect(rows["E"]?.status == .outsideWindow)
        #expect(rows["F"]?.status == .visited)  // the visit came first, the webhook days later
        #expect(rows["F"]?.clickToVisitMilliseconds == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func filtersOnClickTimeAndPagesWithoutLosingRows(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await Self.scenario(store)
        let firstDay = try await Self.rows(store, from: Self.t, to: Self.t + Self.day)
        #expect(firstDay.keys.sorted() == ["A", "B", "C", "D", "E", "F"])
        let later = try await Self.rows(store, from: Self.t + 1_000)
        #expect(later["A"] == nil && later["G"] != nil)
        let paged = try await Self.rows(store, pageSize: 2)
        #expect(paged == (try await Self.rows(store)))
    }

    /// The summary has its own, leaner query: it must count exactly what the clicks report shows.
    @Test(arguments: StoreKind.allCases)
    func summaryCountsWhatTheClicksReportShows(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await Self.scenario(store)
        for (from, to) in [(nil, nil), (Self.t, Self.t + Self.day), (Self.t + 1_000, nil)] as [(Int64?, Int64?)] {
            let query = ReportQuery(from: from, to: to, windowMilliseconds: Self.window)
            for keys in [[], [.day], [.slug, .productID], SummaryReport.Key.allCases] as [[SummaryReport.Key]] {
                var expected = SummaryReport(keys: keys)
                for row in try await Self.rows(store, from: from, to: to).values.sorted(by: { $0.clickedAt < $1.clickedAt }) {
                    expected.add(row.summaryClick)
                }
                if from == nil || from! <= Self.t {
                    expected.addOrphanVisits(1, visitedAt: Self.t, slug: "s")  // the visit of click id "nobody"
                }
                let summary = try await store.summary(query, groupBy: keys)
                #expect(summary.rows == expected.rows, "from \(String(describing: from)), keys \(keys)")
            }
        }
        let totals = try await store.summary(ReportQuery(from: nil, to: nil, windowMilliseconds: Self.window), groupBy: [])
        // 7 clicks, 3 visited (A, B, F; E is outside the window), 1 orphan, 3 bot visits, 5 conversions.
        #expect(Array(totals.rows[0].prefix(5)) == [.number(7), .number(3), .ratio(3.0 / 7), .number(1), .number(3)])
        #expect(totals.rows[0][8] == .number(5))
        #expect(totals.rows[0][10] == .text("35.00 EUR; 5.00 USD"))
    }

    /// Every report format, as bytes, for the scenario's data.
    static func encodedReports(_ store: any Store) async throws -> [String] {
        var outputs: [String] = []
        for format in ReportFormat.allCases {
            var cursor: ReportCursor?
            var rows: [ClickReportRow] = []
            repeat {
                let page = try await store.clickReportPage(
                    ReportQuery(from: nil, to: nil, windowMilliseconds: window), after: cursor, limit: 3)
                rows += page.rows
                cursor = page.next
            } while cursor != nil
            let clicks = ReportEncoder(format: format, columns: ClickReportRow.columns)
            outputs.append(
                clicks.header() + rows.enumerated().map { clicks.row($0.element.cells, index: $0.offset) }.joined()
                    + clicks.footer(rowCount: rows.count))
            for keys in [[], [.day], SummaryReport.Key.allCases] as [[SummaryReport.Key]] {
                let summary = try await store.summary(ReportQuery(from: nil, to: nil, windowMilliseconds: window), groupBy: keys)
                let encoder = ReportEncoder(format: format, columns: summary.columns)
                outputs.append(
                    encoder.header() + summary.rows.enumerated().map { encoder.row($0.element, index: $0.offset) }.joined()
                        + encoder.footer(rowCount: summary.rows.count))
            }
        }
        return outputs
    }

    /// The same data gives the same report bytes from every database: order, text, numbers and decimals.
    @Test(.enabled(if: PostgresCluster.isAvailable)) func everyDatabaseWritesTheSameReportBytes() async throws {
        let sqlite = try StoreKind.sqlite.open().store
        let postgres = try StoreKind.postgres.open().store
        try await Self.scenario(sqlite)
        try await Self.scenario(postgres)
        let expected = try await Self.encodedReports(sqlite)
        #expect(expected.count == ReportFormat.allCases.count * 4)
        #expect(expected.allSatisfy { $0.contains("EUR") })
        #expect(try await Self.encodedReports(postgres) == expected)
    }
}
