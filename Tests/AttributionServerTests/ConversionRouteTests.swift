import AttributionCore
import AttributionServer
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ConversionRouteTests {
    static let key = "test-api-key"

    static func service() throws -> TestService {
        try TestService { $0.api.keys = [Self.key, "second-key"] }
    }

    static func post(_ client: any TestClientProtocol, _ json: String, key: String? = key) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(
            uri: "/api/v1/conversions", method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    @Test func storesOnceAndAnswers201ThenDuplicate200() async throws {
        let service = try Self.service()
        try await service.test { client in
            let json = #"{"click_id":"c1","event":"purchase","value":"24.99","currency":"EUR","order_id":"o-1"}"#
            let first = try await Self.post(client, json)
            #expect(first.status == .created)
            #expect(String(buffer: first.body).contains(#""status":"created""#))
            #expect(String(buffer: first.body).contains(#""click_id":"c1""#))
            let again = try await Self.post(client, json)
            #expect(again.status == .ok)
            #expect(String(buffer: again.body).contains(#""status":"duplicate""#))
            // The same order with another event is another conversion.
            let lead = try await Self.post(client, #"{"click_id":"c1","event":"refund_request","order_id":"o-1"}"#)
            #expect(lead.status == .created)
            // A number works as well as a string.
            let numeric = try await Self.post(client, #"{"click_id":"c1","event":"purchase","value":24.99,"currency":"usd","order_id":"o-2"}"#)
            #expect(numeric.status == .created)
        }
        #expect(try await service.store.counts().conversions == 3)
    }

    @Test func aMissingOrWrongKeyIs401AndStoresNothing() async throws {
        let service = try Self.service()
        try await service.test { client in
            let json = #"{"click_id":"c1","event":"purchase"}"#
            for key in [nil, "wrong", ""] as [String?] {
                let response = try await Self.post(client, json, key: key)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            #expect(try await Self.post(client, json, key: "second-key").status == .created)
        }
        #expect(try await service.store.counts().conversions == 1)
    }

    @Test func noConfiguredKeysRefusesEverything() async throws {
        try await TestService().test { client in
            let response = try await Self.post(client, #"{"click_id":"c1","event":"purchase"}"#, key: "")
            #expect(response.status == .unauthorized)
        }
    }

    @Test(arguments: [
        (#"{"click_id":"c1"}"#, "event is required"),
        (#"{"event":"purchase"}"#, "needs click_id or visitor_id"),
        (#"{"click_id":"c1","event":"purchase","value":"-5","currency":"EUR"}"#, "must not be negative"),
        (#"{"click_id":"c1","event":"purchase","value":"5","currency":"EURO"}"#, "ISO 4217"),
        (#"{"click_id":"c1","event":"purchase","value":"5"}"#, "ISO 4217"),
        (#"{"click_id":"c1","event":"purchase","value":"1.2345678","currency":"EUR"}"#, "more than 6 decimal places"),
        (#"{"click_id":"c1","event":"purchase","value":"ten","currency":"EUR"}"#, "not a decimal number"),
        (#"{"click_id":"c1","event":"purchase","orderid":"x"}"#, "unknown field 'orderid'"),
        (#"{"click_id":"c1","event":{"name":"x"}}"#, "event must be text or a number"),
        (#"{"click_id":"c1","event":"purchase","occurred_at":"yesterday"}"#, "occurred_at must be ISO 8601"),
        (#"[1]"#, "must be a JSON object"),
        (#"not json"#, "must be a JSON object"),
    ])
    func anInvalidConversionIs422WithTheReason(json: String, reason: String) async throws {
        let service = try Self.service()
        try await service.test { client in
            let response = try await Self.post(client, json)
            #expect(response.status == .unprocessableContent)
            #expect(String(buffer: response.body).contains(reason), "\(String(buffer: response.body))")
        }
        #expect(try await service.store.counts().conversions == 0)
    }

    @Test func aVisitorIDResolvesToTheVisitorsLastClick() async throws {
        let service = try Self.service()
        let visitor = "0123456789abcdef0123456789abcdef"
        try await service.test { client in
            for click in ["first-click", "last-click"] {
                try await client.execute(
                    uri: "/summer-sale?click_id=\(click)", method: .get,
                    headers: [.cookie: "ca_vid=\(visitor)", .userAgent: TestService.iPhone])
            }
            // A later crawler hit from the same cookie is not the visitor's click.
            try await client.execute(
                uri: "/summer-sale?click_id=crawler", method: .get,
                headers: [.cookie: "ca_vid=\(visitor)", .userAgent: "facebookexternalhit/1.1"])
            let response = try await Self.post(client, #"{"visitor_id":"\#(visitor)","event":"lead","order_id":"l-1"}"#)
            #expect(response.status == .created)
            #expect(String(buffer: response.body).contains(#""click_id":"last-click""#))

            let stranger = try await Self.post(client, #"{"visitor_id":"ffffffffffffffffffffffffffffffff","event":"lead"}"#)
            #expect(stranger.status == .created)
            #expect(String(buffer: stranger.body).contains(#""click_id":null"#))
        }
    }

    @Test func thePostbackURLWorksLikeThePostWithAKeyParameter() async throws {
        let service = try Self.service()
        try await service.test { client in
            let uri = "/api/v1/postback?click_id=c9&event=purchase&value=10.50&currency=EUR&order_id=p-1"
            #expect(try await client.execute(uri: uri + "&key=\(Self.key)", method: .get).status == .created)
            #expect(try await client.execute(uri: uri + "&key=\(Self.key)", method: .get).status == .ok)
            #expect(try await client.execute(uri: uri + "&key=nope", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: uri, method: .get).status == .unauthorized)
            let bad = try await client.execute(uri: "/api/v1/postback?click_id=c9&value=1&key=\(Self.key)", method: .get)
            #expect(bad.status == .unprocessableContent)
        }
        #expect(try await service.store.counts().conversions == 1)
    }
}
