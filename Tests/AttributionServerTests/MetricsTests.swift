import AttributionCore
import AttributionServer
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /metrics`: the documented names count what happened, and a token closes them.
@Suite struct MetricsTests {
    static func scrape(_ client: any TestClientProtocol, headers: HTTPFields = [:]) async throws -> String {
        let response = try await client.execute(uri: "/metrics", method: .get, headers: headers)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return String(buffer: response.body)
    }

    @Test func theDocumentedMetricsCountWhatHappened() async throws {
        let service = try TestService { $0.api.keys = ["metrics-key"] }
        try await service.test { client in
            _ = try await client.execute(uri: "/summer-sale?click_id=m1", method: .get)
            _ = try await client.execute(uri: "/summer-sale?click_id=m2", method: .head)
            _ = try await client.execute(uri: "/nowhere", method: .get)
            try await client.postWebhook(try Fixtures.body("click.json"), expecting: .ok)
            try await client.postWebhook(try Fixtures.body("click.json"), expecting: .ok)
            try await client.postWebhook(
                try Fixtures.body("click.json"), headers: [.hubSignature: "sha256=00"], expecting: .unauthorized)
            let malformed = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"user_actions":[{"action_type":"marketing_messages_link_click"}]}}]}]}"#.utf8)
            try await client.postWebhook(malformed, expecting: .ok)
            let conversion = try await client.execute(
                uri: "/api/v1/conversions", method: .post,
                headers: [.authorization: "Bearer metrics-key", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"click_id":"m1","event":"purchase","order_id":"o1"}"#))
            #expect(conversion.status == .created)
            _ = try await client.execute(uri: "/api/v1/postback?key=metrics-key&event=purchase&order_id=o1&click_id=m1", method: .get)
            _ = try await client.execute(uri: "/api/v1/postback?key=metrics-key&click_id=m1", method: .get)

            let text = try await Self.scrape(client)
            for line in [
                #"clickattr_http_requests_total{group="landing",status="302"} 2"#,  // GET and HEAD
                #"clickattr_http_requests_total{group="landing",status="404"} 1"#,
                #"clickattr_http_requests_total{group="webhook",status="200"} 3"#,
                #"clickattr_http_requests_total{group="webhook",status="401"} 1"#,
                #"clickattr_http_requests_total{group="conversions",status="201"} 1"#,
                #"clickattr_visits_recorded_total 3"#,
                #"clickattr_webhook_deliveries_total{result="new"} 2"#,
                #"clickattr_webhook_deliveries_total{result="duplicate"} 1"#,
                #"clickattr_webhook_actions_total{type="marketing_messages_link_click"} 2"#,
                #"clickattr_webhook_actions_stored_total{result="stored"} 1"#,
                #"clickattr_webhook_actions_stored_total{result="duplicate"} 1"#,
                #"clickattr_webhook_malformed_actions_total 1"#,
                #"clickattr_webhook_signature_failures_total 1"#,
                #"clickattr_conversions_total{result="created",source="api"} 1"#,
                #"clickattr_conversions_total{result="duplicate",source="postback"} 1"#,
                #"clickattr_conversions_total{result="invalid",source="postback"} 1"#,
                #"clickattr_write_queue_depth{writer="visits"} 0.0"#,
                #"clickattr_write_queue_depth{writer="deliveries"} 0.0"#,
            ] {
                #expect(text.contains(line + "\n"), "\(line)")
            }
            #expect(text.contains(#"clickattr_commit_duration_seconds_count{writer="visits",result="committed"} "#))
            #expect(text.contains(#"clickattr_commit_duration_seconds_bucket{writer="deliveries",result="committed",le="0.005"} "#))
            #expect(text.contains(#"clickattr_http_request_duration_seconds_count{group="landing"} 3"#))
            // The scrape itself is counted by the next one.
            #expect(try await Self.scrape(client).contains(#"clickattr_http_requests_total{group="metrics",status="200"} 1"#))
        }
    }

    @Test func aVisitThatCannotBeStoredIsCountedByReason() async throws {
        let service = try TestService { $0.http.orphanVisitsPerMinute = 1 }
        // One instant for both visits: the allowance is per minute of the clock, and a slow run could otherwise
        // see the second visit in the next minute.
        let instant = Clock.milliseconds()
        try await service.test(now: { instant }) { client in
            _ = try await client.execute(uri: "/unknown-1?click_id=a", method: .get)
            _ = try await client.execute(uri: "/unknown-2?click_id=b", method: .get)
            let text = try await Self.scrape(client)
            #expect(text.contains(#"clickattr_visits_not_recorded_total{reason="orphan_rate_limit"} 1"#))
            #expect(text.contains("clickattr_visits_recorded_total 1\n"))
        }
    }

    @Test func aBearerTokenClosesTheMetrics() async throws {
        let service = try TestService { $0.metrics.bearerToken = "scrape-token" }
        try await service.test { client in
            let refused = try await client.execute(uri: "/metrics", method: .get)
            #expect(refused.status == .unauthorized && refused.headers[.wwwAuthenticate] == "Bearer")
            #expect(!String(buffer: refused.body).contains("clickattr_"))
            let wrong = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            _ = try await Self.scrape(client, headers: [.authorization: "Bearer scrape-token"])
        }
    }
}
