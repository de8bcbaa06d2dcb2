import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Foundation
import Testing

/// Every Store implementation must pass these; each kind opens a fresh, real database.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite

    var testDescription: String { rawValue }

    func open() throws -> (store: any Store, reopen: () throws -> any Store) {
        switch self {
        case .sqlite:
            let path = try Scratch.directory("store").appendingPathComponent("test.sqlite").path
            return (try SQLiteStore(path: path), { try SQLiteStore(path: path) })
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
