import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Foundation
import Logging
import Testing

/// Every Store implementation must pass these; each kind opens a fresh, real database. PostgreSQL runs on the
/// test process's throwaway cluster; when it cannot start, its cases are skipped with a loud message (and
/// `CLICKATTR_REQUIRE_POSTGRES=1`, as in CI, makes that a failure: see `PostgresAvailabilityTests`).
enum StoreKind: String, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var allCases: [StoreKind] { PostgresCluster.isAvailable ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    func open() throws -> (store: any Store, reopen: () throws -> any Store) {
        switch self {
        case .sqlite:
            let path = try Scratch.directory("store").appendingPathComponent("test.sqlite").path
            return (try SQLiteStore(path: path), { try SQLiteStore(path: path) })
        case .postgres:
            let url = try PostgresCluster.freshDatabaseURL()
            var logger = Logger(label: "test-postgres")
            logger.logLevel = .error
            let open = { [logger] in try PostgresStore(url: url, maxConnections: 4, logger: logger) }
            return (try open(), open)
        }
    }
}

@Suite struct PostgresAvailabilityTests {
    @Test func theThrowawayClusterRunsWhenRequired() {
        if PostgresCluster.isRequired {
            #expect(PostgresCluster.isAvailable, "PostgreSQL is required but did not start: \(PostgresCluster.unavailableReason ?? "")")
        }
    }
}

@Suite struct StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func migratingTwiceIsHarmless(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.counts() == StoreCounts(deliveries: 0, userActions: 0, visits: 0))
        try await store.checkReachable()
    }

    @Test(arguments: StoreKind.allCases)
    func storesADeliveryAndItsActionsOnce(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await store.migrate()
        let delivery = makeDelivery(body: "body-1", actions: [action("k1", click: "c1"), action("k2", click: "c2")])

        let first = try await store.ingest([delivery])
        #expect(first == [IngestOutcome(newDelivery: true, storedActions: 2, duplicateActions: 0)])
        let again = try await store.ingest([delivery])
        #expect(again == [IngestOutcome(newDelivery: false, storedActions: 0, duplicateActions: 2)])

        // The same action inside a different body (Meta batches retries differently) is still one action.
        let rebatched = makeDelivery(body: "body-2", actions: [action("k2", click: "c2"), action("k3", click: "c3")])
        #expect(try await store.ingest([rebatched]) == [IngestOutcome(newDelivery: true, storedActions: 1, duplicateActions: 1)])
        #expect(try await store.counts() == StoreCounts(deliveries: 2, userActions: 3, visits: 0))
        #expect(try await store.deliveryBody(sha256: "sha-body-1") == Array("body-1".utf8))
    }

    @Test(arguments: StoreKind.allCases)
    func oneTransactionMayHoldTheSameDeliveryTwice(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await store.migrate()
        let delivery = makeDelivery(body: "twice", actions: [action("k1", click: "c1")])
        let overlapping = makeDelivery(body: "other", actions: [action("k1", click: "c1"), action("k2", click: "c2")])
        let outcomes = try await store.ingest([delivery, delivery, overlapping])
        #expect(
            outcomes == [
                IngestOutcome(newDelivery: true, storedActions: 1, duplicateActions: 0),
                IngestOutcome(newDelivery: false, storedActions: 0, duplicateActions: 1),
                IngestOutcome(newDelivery: true, storedActions: 1, duplicateActions: 1),
            ])
        #expect(try await store.counts() == StoreCounts(deliveries: 2, userActions: 2, visits: 0))
    }

    @Test(arguments: StoreKind.allCases)
    func keepsEveryFieldOfAnAction(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await store.migrate()
        let stored = UserAction(
            key: "k", actionType: "landing_page_view", occurredAt: 1_764_331_203_000, wabaID: "w",
            phoneNumberID: "p", displayPhoneNumber: "d", clickID: "Case-Sensitive", trackingToken: "t",
            clickComponent: nil, productID: nil, rawJSON: #"{"action_type":"landing_page_view","x":1}"#)
        _ = try await store.ingest([makeDelivery(body: "b", actions: [stored])])
        #expect(try await store.userActions(clickID: "Case-Sensitive") == [stored])
        #expect(try await store.userActions(clickID: "case-sensitive").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func visitsRoundTripAndSurviveReopening(kind: StoreKind) async throws {
        let (store, reopen) = try kind.open()
        try await store.migrate()
        let human = Visit(
            visitedAt: 1_764_331_201_250, method: "GET", path: "/summer-sale", slug: "summer-sale", clickID: "c1",
            clickParameters: ["click_id": "c1", "fbclid": "f\"q\\b é/😀"], clickIDProblem: nil, visitorID: "v1",
            userAgent: "Mozilla/5.0", referrer: "https://l.wl.co/", ip: "203.0.113.0", botReason: nil)
        let orphan = Visit(
            visitedAt: 1_764_331_202_000, method: "HEAD", path: "/nope", slug: nil, clickID: nil, clickParameters: [:],
            clickIDProblem: .tooLong, visitorID: nil, userAgent: nil, referrer: nil, ip: nil, botReason: "head_request")
        // An empty header is kept as empty, not as missing.
        let blank = Visit(
            visitedAt: 1_764_331_203_000, method: "GET", path: "/summer-sale", slug: "summer-sale", clickID: "c2",
            clickParameters: ["click_id": "c2"], clickIDProblem: nil, visitorID: "v2", userAgent: "", referrer: "",
            ip: "", botReason: "empty_user_agent")
        try await store.recordVisits([human, orphan, blank])

        let reopened = try reopen()
        #expect(try await reopened.recentVisits(limit: 10) == [blank, orphan, human])
        #expect(try await reopened.counts().visits == 3)
    }

    /// Two instances (two stores on one database) starting at once, then receiving the same deliveries and the
    /// same conversion at once: the schema is made once, and constraints, not reads, keep every row single.
    @Test(arguments: StoreKind.allCases)
    func instancesRacingOnTheSameDataStoreItOnce(kind: StoreKind) async throws {
        let (first, reopen) = try kind.open()
        let second = try reopen()
        async let migrated: Void = first.migrate()
        try await second.migrate()
        try await migrated

        let deliveries = (0..<20).map { index in
            makeDelivery(body: "race-\(index)", actions: (0..<50).map { action("race-\(index)-\($0)", click: "c\($0)") })
        }
        // The second instance gets the same bodies in reverse order, as two load-balanced retries might.
        async let fromFirst = first.ingest(deliveries)
        let fromSecond = try await second.ingest(deliveries.reversed())
        let outcomes = try await fromFirst + fromSecond
        #expect(outcomes.filter(\.newDelivery).count == 20)
        #expect(outcomes.map(\.storedActions).reduce(0, +) == 1000)
        #expect(try await first.counts() == StoreCounts(deliveries: 20, userActions: 1000, visits: 0))

        let conversion = Conversion(
            event: "purchase", clickID: "c1", visitorID: nil, valueMicros: 24_990_000, currency: "EUR", orderID: "A-1",
            occurredAt: 1_764_331_260_000, source: .api)
        for _ in 0..<5 {
            async let one = first.recordConversion(conversion, receivedAt: 1_764_331_260_000, lookback: 86_400_000)
            let other = try await second.recordConversion(conversion, receivedAt: 1_764_331_260_000, lookback: 86_400_000)
            let both = try await [one, other]
            #expect(both.allSatisfy { $0.clickID == "c1" })
            #expect(both.filter(\.created).count <= 1)
        }
        #expect(try await first.counts().conversions == 1)
    }

    /// What a spool ships: a batch shipped again (after a crash between the commit and forgetting it), even
    /// with more rows than the first time, adds only what is new.
    @Test(arguments: StoreKind.allCases)
    func spooledVisitsAreStoredOnceHoweverOftenTheyAreShipped(kind: StoreKind) async throws {
        let store = try kind.open().store
        try await store.migrate()
        let destination = try #require(store as? any SpoolDestination)
        let spool = try VisitSpool(
            path: try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path, maxBytes: 1 << 20)
        try spool.append([VisitSpoolTests.visit("c0"), VisitSpoolTests.visit("c1")])
        try spool.append([VisitSpoolTests.visit("c2")])
        try spool.append([VisitSpoolTests.visit("c3"), VisitSpoolTests.visit("c4")])
        let first = try #require(try await spool.oldest(limit: 3))
        #expect(first.count == 3)
        #expect(try await destination.recordSpooled(first) == 3)
        #expect(try await destination.recordSpooled(first) == 0)
        let all = try #require(try await spool.oldest(limit: 100))
        #expect(all.count == 5)
        #expect(try await destination.recordSpooled(all) == 2)
        #expect(try await destination.recordSpooled(all) == 0)
        // Visits not from a spool are never taken for each other.
        try await store.recordVisits([VisitSpoolTests.visit("plain"), VisitSpoolTests.visit("plain")])
        #expect(try await store.counts().visits == 7)
    }

    private func makeDelivery(body: String, actions: [UserAction]) -> WebhookDelivery {
        WebhookDelivery(
            body: Array(body.utf8), bodySHA256: "sha-\(body)", receivedAt: 1_764_331_210_000, source: .http,
            actions: actions)
    }

    private func action(_ key: String, click: String) -> UserAction {
        UserAction(
            key: key, actionType: UserAction.linkClick, occurredAt: 1_764_331_200_000, wabaID: "w", clickID: click,
            trackingToken: "t-\(click)", clickComponent: "cta", productID: "sku", rawJSON: "{}")
    }
}
