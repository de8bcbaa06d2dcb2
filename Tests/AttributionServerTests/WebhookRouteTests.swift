import AttributionCore
import AttributionServer
import AttributionStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct WebhookVerificationTests {
    @Test func answersTheChallengeWhenTheTokenMatches() async throws {
        try await TestService().test { client in
            try await client.execute(
                uri: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444",
                method: .get
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "1158201444")
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            }
        }
    }

    @Test(arguments: [
        "?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "?hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "?hub.verify_token=test-verify-token&hub.challenge=1",
        "?hub.mode=subscribe&hub.challenge=1",
        "",
    ])
    func refusesAnyOtherRequest(query: String) async throws {
        try await TestService().test { client in
            try await client.execute(uri: "/webhooks/whatsapp\(query)", method: .get) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func anEmptyConfiguredTokenNeverVerifies() async throws {
        try await TestService { $0.webhook.verifyToken = "" }.test { client in
            try await client.execute(
                uri: "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", method: .get
            ) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func followsTheConfiguredPath() async throws {
        try await TestService { $0.webhook.path = "/hooks/meta" }.test { client in
            try await client.execute(
                uri: "/hooks/meta?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=7", method: .get
            ) { response in
                #expect(String(buffer: response.body) == "7")
            }
        }
    }
}

@Suite struct WebhookDeliveryTests {
    @Test func storesASignedClickAndItsRawBody() async throws {
        let service = try TestService()
        let body = try Fixtures.body("click.json")
        try await service.test { client in
            try await client.postWebhook(body, expecting: .ok)
        }
        let actions = try await service.store.userActions(clickID: "ARAkLkA8rmlF8d0x")
        #expect(actions.count == 1)
        #expect(actions.first?.actionType == UserAction.linkClick)
        #expect(actions.first?.trackingToken == "tt_summer_01")
        #expect(try await service.store.deliveryBody(sha256: Self.sha256(body)) == body)
    }

    @Test func refusesAMissingOrWrongSignatureAndStoresNothing() async throws {
        let service = try TestService()
        let body = try Fixtures.body("click.json")
        try await service.test { client in
            var tampered = body
            tampered[tampered.count - 5] = UInt8(ascii: "X")
            let attempts: [(HTTPFields, [UInt8])] = [
                ([.contentType: "application/json"], body),
                (TestService.signed(body, secret: "not-the-secret"), body),
                (TestService.signed(body), tampered),
                ([.hubSignature: "sha256=deadbeef"], body),
            ]
            for (headers, sent) in attempts {
                try await client.postWebhook(sent, headers: headers, expecting: .unauthorized)
            }
        }
        #expect(try await service.store.counts() == StoreCounts(deliveries: 0, userActions: 0, visits: 0))
    }

    @Test func anEmptyAppSecretRefusesEveryPost() async throws {
        let service = try TestService { $0.webhook.appSecret = "" }
        let body = try Fixtures.body("click.json")
        try await service.test { client in
            let response = try await client.postWebhook(
                body, headers: TestService.signed(body, secret: ""), expecting: .unauthorized)
            #expect(String(buffer: response.body).contains("app_secret"))
        }
        #expect(try await service.store.counts().deliveries == 0)
    }

    @Test func aSignedBodyThatIsNotJSONIs400() async throws {
        let service = try TestService()
        let body = Array("{\"object\": truncated".utf8)
        try await service.test { client in
            try await client.postWebhook(body, expecting: .badRequest)
        }
        #expect(try await service.store.counts().deliveries == 0)
    }

    @Test func aBodyOver4MiBIs413() async throws {
        let service = try TestService()
        let body = [UInt8](repeating: UInt8(ascii: " "), count: 4 * 1024 * 1024 + 1)
        try await service.test { client in
            try await client.postWebhook(body, expecting: .contentTooLarge)
        }
        #expect(try await service.store.counts().deliveries == 0)
    }

    @Test func statusOnlyTrafficIsAcknowledgedAndArchived() async throws {
        let service = try TestService()
        let body = try Fixtures.body("statuses.json")
        try await service.test { client in
            try await client.postWebhook(body, expecting: .ok)
        }
        #expect(try await service.store.counts() == StoreCounts(deliveries: 1, userActions: 0, visits: 0))
    }

    @Test func aRedeliveryStoresNothingTwice() async throws {
        let service = try TestService()
        let body = try Fixtures.body("click.json")
        try await service.test { client in
            for _ in 0..<3 {
                try await client.postWebhook(body, expecting: .ok)
            }
        }
        #expect(try await service.store.counts() == StoreCounts(deliveries: 1, userActions: 1, visits: 0))
    }

    @Test func aLandingPageViewBeforeItsClickKeepsBoth() async throws {
        let service = try TestService()
        let view = try Fixtures.body("landing-page-view.json")
        let click = try Fixtures.body("click.json")
        try await service.test { client in
            for body in [view, click, view] {
                try await client.postWebhook(body, expecting: .ok)
            }
        }
        let actions = try await service.store.userActions(clickID: "ARAkLkA8rmlF8d0x")
        #expect(actions.map(\.actionType) == [UserAction.linkClick, UserAction.landingPageView])
    }

    @Test func aBatchOf1000ClicksIsStoredWholeAndConcurrentRetriesAddNothing() async throws {
        let service = try TestService()
        let body = Fixtures.batch(clicks: 1000)
        try await service.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await client.postWebhook(body, expecting: .ok)
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(try await service.store.counts() == StoreCounts(deliveries: 1, userActions: 1000, visits: 0))
        let last = try await service.store.userActions(clickID: "click-999")
        #expect(last.first?.wabaID == "102290129340399")
        #expect(last.first?.occurredAt == 1_764_332_199_000)
    }

    @Test func unknownActionTypesAreKept() async throws {
        let service = try TestService()
        let body = Array(
            #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"user_actions":[{"action_type":"future_action","timestamp":1764331200,"future_action_data":{"click_id":"fut-1","new_field":"kept"}}]}}]}]}"#
                .utf8)
        try await service.test { client in
            try await client.postWebhook(body, expecting: .ok)
        }
        let stored = try #require(try await service.store.userActions(clickID: "fut-1").first)
        #expect(stored.actionType == "future_action")
        #expect(stored.rawJSON.contains(#""new_field":"kept""#))
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}
