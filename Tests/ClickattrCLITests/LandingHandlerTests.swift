import AttributionStore
import ClickattrTestSupport
import Crypto
import Foundation
import Testing

/// The landing channel handler over real HTTP/1.1: landing requests answered from the event loop, every other
/// request through the router, and the answers of one connection in the order it sent the requests.
@Suite struct LandingHandlerTests {
    static func request(_ target: String, _ headers: String = "") -> String {
        "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (iPhone)\r\n\(headers)\r\n"
    }

    @Test func pipelinedLandingAndOtherRequestsAreAnsweredInOrder() async throws {
        let cli = try CLI()
        let secret = "cli-secret"
        let (server, port) = try cli.startServer(extra: "api:\n  keys: [cli-key]\n")
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let body = try String(
            contentsOf: CLI.packageRoot.appendingPathComponent("Tests/Fixtures/click.json"), encoding: .utf8
        ).trimmingCharacters(in: .newlines)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        let webhook =
            "POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "X-Hub-Signature-256: \(signature)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let connection = try RawConnection(port: port)
        try connection.send(
            Self.request("/summer-sale?click_id=pipe-1") + Self.request("/healthz") + webhook
                + Self.request("/summer-sale?click_id=pipe-2") + Self.request("/api/v1/reports/summary", "Authorization: Bearer cli-key\r\n")
                + Self.request("/no-such-page?click_id=pipe-3") + Self.request("/readyz")
                + "HEAD /summer-sale?click_id=pipe-4 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let answer = connection.readUntilClosed(timeout: 10)
        #expect(answer.closed, "the connection closes after the answer to the request that asked")
        // A body need not end with a line break, so status lines are found anywhere in the stream.
        let statuses = answer.text.matches(of: #/HTTP/1\.1 (\d{3}) /#).map { String($0.output.1) }
        #expect(statuses == ["302", "200", "200", "302", "200", "404", "200", "302"])
        // Each answer is its own request's: the redirects carry their click ids, in order.
        let locations = answer.text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Location: ") }
        #expect(locations == [
            "Location: https://shop.example.com/summer?click_id=pipe-1",
            "Location: https://shop.example.com/summer?click_id=pipe-2",
            "Location: https://shop.example.com/summer?click_id=pipe-4",
        ])
        #expect(answer.text.contains("EVENT_RECEIVED") && answer.text.contains("clicks,visited_clicks"))
        // Every landing request is a visit (the HEAD one a bot/preview hit), shipped from the spool.
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        for _ in 0..<200 where try await store.counts().visits < 4 { try await Task.sleep(for: .milliseconds(25)) }
        let visits = try await store.recentVisits(limit: 10)
        #expect(Set(visits.compactMap(\.clickID)) == ["pipe-1", "pipe-2", "pipe-3", "pipe-4"])
        #expect(visits.first { $0.clickID == "pipe-4" }?.botReason != nil)
        #expect(try await store.counts().userActions == 1)
    }
}
