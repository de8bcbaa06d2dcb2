import AttributionCore
import AttributionStore
import Testing

/// `clickattr purge`: a click goes with what is joined to it, everything else by its own time, a batch at a time.
@Suite struct RetentionTests {
    typealias R = ClickReportTests
    static let now = R.t + 100 * R.day
    static let cutoff = now - 30 * R.day
    static let old = cutoff - 5 * R.day
    static let recent = now - R.day

    static func orphan(at time: Int64, click: String? = nil) -> Visit {
        Visit(
            visitedAt: time, method: "GET", path: "/x", slug: nil, clickID: click, clickParameters: [:],
            clickIDProblem: nil, visitorID: nil, userAgent: "ua", referrer: nil, ip: nil, botReason: nil)
    }

    static func scenario(_ store: any Store) async throws {
        try await store.migrate()
        _ = try await store.ingest([
            WebhookDelivery(
                body: Array("old".utf8), bodySHA256: "old", receivedAt: old, source: .http,
                actions: [
                    R.click("gone", at: old, token: "t-gone"),
                    // The same click id delivered again later under another key: its visits stay with the kept one.
                    UserAction(
                        key: "shared-old", actionType: UserAction.linkClick, occurredAt: old, clickID: "shared",
                        rawJSON: "{}"),
                    UserAction(
                        key: "view-gone", actionType: UserAction.landingPageView, occurredAt: old, clickID: nil,
                        trackingToken: "t-gone", rawJSON: "{}"),
                    UserAction(key: "unknown-old", actionType: "some_future_type", occurredAt: old, rawJSON: "{}"),
                ]),
            WebhookDelivery(
                body: Array("recent".utf8), bodySHA256: "recent", receivedAt: recent, source: .http,
                actions: [
                    R.click("kept", at: recent),
                    UserAction(
                        key: "shared-new", actionType: UserAction.linkClick, occurredAt: recent, clickID: "shared",
                        rawJSON: "{}"),
                    UserAction(key: "unknown-new", actionType: "some_future_type", occurredAt: recent, rawJSON: "{}"),
                ]),
        ])
        try await store.recordVisits([
            R.visit("gone", at: old + 1_000), R.visit("gone", at: recent, bot: true),
            R.visit("shared", at: old + 2_000), R.visit("kept", at: old),  // a visit long before its click: kept
            R.visit("kept", at: recent + 500),
            orphan(at: old), orphan(at: old, click: "never-clicked"), orphan(at: recent),
        ])
        for (click, time, order) in [("gone", old + 5_000, "o1"), ("kept", recent, "o2"), ("nobody", old, "o3")] {
            _ = try await store.recordConversion(
                try R.conversion(click, "5", "EUR", at: time, order: order), receivedAt: time, lookback: R.window)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aClickGoesWithWhatIsJoinedToItAndOrphansByTheirOwnTime(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await Self.scenario(store)
        let before = try await R.rows(store, from: Self.cutoff, pageSize: 100)
        // A batch of one row of each kind at a time: the loop, not one big statement, does the work.
        let purged = try await Retention.purge(store, before: Self.cutoff, batchSize: 1)
        var expected = PurgeCounts()
        expected.clicks = 2  // gone, shared-old
        expected.visits = 4  // gone's two, the two old orphans
        expected.otherActions = 2  // gone's landing page view, the old unknown action
        expected.conversions = 2  // gone's, nobody's
        expected.deliveries = 1  // "old", once none of its actions is left
        #expect(purged == expected)
        #expect(try await store.counts() == StoreCounts(deliveries: 1, userActions: 3, visits: 4, conversions: 1))
        #expect(try await store.deliveryBody(sha256: "old") == nil)
        #expect(try await store.deliveryBody(sha256: "recent") == Array("recent".utf8))

        // The reports over what is left are what they were for the kept clicks.
        let after = try await R.rows(store, pageSize: 100)
        #expect(Set(after.keys) == ["kept", "shared"])
        #expect(after["kept"]?.visits == before["kept"]?.visits)
        #expect(after["kept"]?.firstVisitAt == before["kept"]?.firstVisitAt)
        #expect(after["kept"]?.conversions == 1)
        #expect(after["shared"]?.visits == 1)
        let summary = try await store.summary(
            ReportQuery(from: nil, to: nil, windowMilliseconds: R.window), groupBy: [])
        #expect(summary.rows.first?[0] == .number(2))

        // Nothing is left to purge: a second run deletes nothing.
        #expect(try await Retention.purge(store, before: Self.cutoff).total == 0)
        try await store.vacuum()
        #expect(try await store.counts().visits == 4)
    }
}
