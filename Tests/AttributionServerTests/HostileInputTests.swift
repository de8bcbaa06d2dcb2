import AttributionCore
import AttributionServer
import AttributionStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Requests that once stopped the process (a trap on a number, a sum or a time) or stored something other than
/// what was sent. Each goes through the real routes; the process surviving them is half of each test.
@Suite struct HostileInputTests {
    static let key = "test-api-key"
    static let huge = "99999999999999999999"

    static func service() throws -> TestService {
        try TestService { $0.api.keys = [Self.key] }
    }

    static func conversion(_ client: any TestClientProtocol, _ json: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/conversions", method: .post,
            headers: [.contentType: "application/json", .authorization: "Bearer \(key)"], body: ByteBuffer(string: json))
    }

    static func get(_ client: any TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(key)"])
    }

    static func delivery(actions: [String], entryID: String = #""102290129340398""#, phoneNumberID: String = #""106540352242922""#) -> [UInt8] {
        Array(
            #"{"object":"whatsapp_business_account","entry":[{"id":\#(entryID),"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":\#(phoneNumberID)},"user_actions":[\#(actions.joined(separator: ","))]}}]}]}"#
                .utf8)
    }

    static func click(id: String, timestamp: String = #""1764331200""#, productID: String = #""sku""#) -> String {
        #"{"action_type":"marketing_messages_link_click","timestamp":\#(timestamp),"marketing_messages_link_click_data":{"click_component":"cta","product_id":\#(productID),"click_id":\#(id),"tracking_token":"tt"}}"#
    }

    @Test(arguments: [
        (#""value":99999999999999999999"#, "value"), (#""value":1e30"#, "value"), (#""value":"1e30""#, "value"),
        (#""value":"9000000000000""#, "below 1000000000000"), (#""value":1e-999"#, "value"),
        (#""occurred_at":9223372036854776"#, "occurred_at"), (#""occurred_at":"-9223372036854776""#, "occurred_at"),
        (#""occurred_at":"9223372036854775807""#, "occurred_at"), (#""occurred_at":1e300"#, "occurred_at"),
    ])
    func aConversionWithAnOutOfRangeNumberIs422NamingTheField(field: String, named: String) async throws {
        let service = try Self.service()
        try await service.test { client in
            let response = try await Self.conversion(
                client, #"{"click_id":"c1","event":"purchase","currency":"EUR","order_id":"o-1",\#(field)}"#)
            #expect(response.status == .unprocessableContent)
            #expect(String(buffer: response.body).contains(named))
            // Still serving.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
        #expect(try await service.store.counts().conversions == 0)
    }

    @Test func aPostbackWithAnOutOfRangeTimeOrBytesThatAreNotUTF8Is422() async throws {
        let service = try Self.service()
        try await service.test { client in
            for query in [
                "occurred_at=9223372036854776", "occurred_at=-9223372036854776", "value=99999999999999999999&currency=EUR",
                "order_id=%FF%FE",
            ] {
                let response = try await client.execute(
                    uri: "/api/v1/postback?key=\(Self.key)&click_id=c1&event=purchase&\(query)", method: .get)
                #expect(response.status == .unprocessableContent, "\(query)")
            }
        }
        #expect(try await service.store.counts().conversions == 0)
    }

    @Test func theLargestValuesSumWithoutTrappingInEveryReport() async throws {
        let service = try Self.service()
        let largest = "999999999999.999999"
        try await service.test { client in
            let clicks = (0..<12).map { Self.click(id: "\"c\($0)\"", timestamp: "\"\(1_764_331_200 + $0)\"") }
            try await client.postWebhook(Self.delivery(actions: clicks), expecting: .ok)
            for index in 0..<12 {
                // Ten on one click, one each on the others: both the click's own sum and the totals pass 2^63.
                for order in 0..<(index == 0 ? 10 : 1) {
                    let response = try await Self.conversion(
                        client,
                        #"{"click_id":"c\#(index)","event":"purchase","value":"\#(largest)","currency":"EUR","order_id":"o-\#(index)-\#(order)","occurred_at":"\#(1_764_331_300)"}"#
                    )
                    #expect(response.status == .created)
                }
            }
            let summary = try await Self.get(client, "/api/v1/reports/summary?format=json")
            #expect(summary.status == .ok)
            // 21 x 999999999999.999999, exactly.
            #expect(String(buffer: summary.body).contains(#""conversion_value":"20999999999999.999979""#))
            let rows = try await Self.get(client, "/api/v1/reports/clicks?format=ndjson")
            #expect(rows.status == .ok)
            #expect(String(buffer: rows.body).contains(#""conversion_value":"9999999999999.99999""#))
        }
    }

    @Test func aSignedDeliveryWithHugeNumbersIsStoredWithTheirTextAndAnswered200() async throws {
        let service = try Self.service()
        let body = Self.delivery(
            actions: [
                Self.click(id: "1e20", productID: Self.huge),
                Self.click(id: #""big-time""#, timestamp: Self.huge),
                Self.click(id: #""infinite""#, timestamp: "1e999"),
                Self.click(id: #""hex""#, timestamp: #""0x6929B2C0""#),
                Self.click(id: #""nan""#, timestamp: #""nan""#),
                Self.click(id: #""nul\u0000id""#),
                Self.click(id: #""nul-product""#, productID: #""a\u0000b""#),
                #"{"action_type":"landing_page_view","timestamp":1764331201,"extra":1e999,"landing_page_view_data":{"click_id":"1e20"}}"#,
            ], entryID: Self.huge, phoneNumberID: Self.huge)
        try await service.test { client in
            try await client.postWebhook(body, expecting: .ok)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
        let actions = try await service.store.userActions(clickID: "1e20")
        #expect(actions.map(\.actionType) == ["marketing_messages_link_click", "landing_page_view"])
        let click = try #require(actions.first)
        #expect(click.productID == Self.huge)
        #expect(click.wabaID == Self.huge)
        #expect(click.phoneNumberID == Self.huge)
        #expect(click.occurredAt == 1_764_331_200_000)
        // Every archived action is JSON that a strict reader takes back.
        for action in actions { #expect(throws: Never.self) { try JSONParser.parse(Array(action.rawJSON.utf8)) } }
        #expect(actions.last?.rawJSON.contains("1e999") == true)
        // The timestamps that are no time, and the ids that could not be reported as sent, are not click events;
        // the delivery still holds them, byte for byte.
        #expect(try await service.store.counts().userActions == 2)
        #expect(try await service.store.counts().deliveries == 1)
        for id in ["big-time", "infinite", "hex", "nan", "nul-product"] {
            #expect(try await service.store.userActions(clickID: id).isEmpty, "\(id)")
        }
        let archived = try await service.store.deliveryBody(sha256: Hex.encode(SHA256.hash(data: body)))
        #expect(archived == body)
    }

    @Test(arguments: ["%FF%FE", "%FF%FD", "%C3"])
    func aClickIDThatIsNotUTF8IsRefusedNotReplaced(escaped: String) async throws {
        let service = try Self.service()
        try await service.test { client in
            let response = try await client.execute(uri: "/summer-sale?click_id=\(escaped)", method: .get)
            #expect(response.status == .found)
            // The shop still gets the parameter exactly as it was sent.
            #expect(response.headers[.location]?.hasSuffix("click_id=\(escaped)") == true)
        }
        let visit = try #require(try await service.visits(1).first)
        #expect(visit.clickID == nil)
        #expect(visit.clickIDProblem == .notUTF8)
    }
}
