import AttributionCore
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

    /// Waits until the database holds `count` visits (they are shipped from the spool), then a little longer.
    static func visits(_ cli: CLI, atLeast count: Int) async throws -> [Visit] {
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        for _ in 0..<200 where try await store.counts().visits < count { try await Task.sleep(for: .milliseconds(25)) }
        // Past the shipper's gathering: a visit stored by mistake would have arrived by now.
        try await Task.sleep(for: .milliseconds(600))
        return try await store.recentVisits(limit: 50)
    }

    /// Runs `body` with a raw connection to a server started from `cli`'s config, and stops the server after.
    static func withConnection(
        _ cli: CLI, http: String = "", _ body: (RawConnection) async throws -> Void
    ) async throws {
        let (server, port) = try cli.startServer(http: http)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        try await body(try RawConnection(port: port))
    }

    @Test func aRequestArrivingInPiecesIsAnsweredOnceWholeAndInOrder() async throws {
        let cli = try CLI()
        try await Self.withConnection(cli) { connection in
            for piece in ["G", "ET /summer-sale?cli", "ck_id=piece-1 HTTP/1.1\r\nHost: 127.0.0.1\r", "\nUser-Agent: Mozilla/5.0\r\n", "\r\n"] {
                try connection.send(piece)
                // Blocking, not `Task.sleep`: with the suite's tests in parallel, a suspended test can wait seconds for
                // a thread, past the server's header deadline.
                usleep(30_000)
            }
            try connection.send(Self.request("/summer-sale?click_id=piece-2", "Connection: close\r\n"))
            let answer = connection.readUntilClosed(timeout: 10)
            #expect(answer.closed)
            let locations = answer.text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Location: ") }
            #expect(locations == [
                "Location: https://shop.example.com/summer?click_id=piece-1",
                "Location: https://shop.example.com/summer?click_id=piece-2",
            ])
            let visits = try await Self.visits(cli, atLeast: 2)
            #expect(visits.compactMap(\.clickID).sorted() == ["piece-1", "piece-2"])
            #expect(visits.allSatisfy { $0.userAgent?.hasPrefix("Mozilla/5.0") == true && $0.botReason == nil })
        }
    }

    @Test func nothingAfterARequestThatClosesTheConnectionIsReadOrStored() async throws {
        let cli = try CLI()
        try await Self.withConnection(cli) { connection in
            try connection.send(
                "GET /summer-sale?click_id=old-1 HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
                    + Self.request("/summer-sale?click_id=old-2"))
            let answer = connection.readUntilClosed(timeout: 10)
            #expect(answer.closed, "HTTP/1.0 without keep-alive closes after its answer")
            #expect(answer.text.matches(of: #/HTTP/1\.1 302 /#).count == 1)
            #expect(answer.text.contains("\r\nconnection: close\r\n"))
            let visits = try await Self.visits(cli, atLeast: 1)
            #expect(visits.map(\.clickID) == ["old-1"])
        }
    }

    /// What the fast path leaves to NIO's decoder (a body on a GET, a user agent that is not ASCII) is answered as
    /// before, on the same connection, and landing requests after it still are visits.
    @Test func requestsTheFastPathDeclinesAreAnsweredAsBefore() async throws {
        let cli = try CLI()
        try await Self.withConnection(cli) { connection in
            try connection.send(
                Self.request("/summer-sale?click_id=odd-1")
                    + "GET /summer-sale?click_id=odd-2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
                    + "GET /summer-sale?click_id=odd-3 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Caf\u{e9}Browser/1.0\r\n\r\n"
                    + Self.request("/summer-sale?click_id=odd-4", "Connection: close\r\n"))
            let answer = connection.readUntilClosed(timeout: 10)
            #expect(answer.closed)
            let locations = answer.text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Location: ") }
            #expect(locations == (1...4).map { "Location: https://shop.example.com/summer?click_id=odd-\($0)" })
            let visits = try await Self.visits(cli, atLeast: 4)
            #expect(visits.compactMap(\.clickID).sorted() == ["odd-1", "odd-2", "odd-3", "odd-4"])
            #expect(visits.first { $0.clickID == "odd-3" }?.userAgent == "Caf\u{e9}Browser/1.0")
        }
    }

    /// The peer's address and the user agent's verdict are worked out once per connection and reused: a later
    /// request with another agent, a HEAD, or a trusted X-Forwarded-For still gets its own.
    @Test func eachRequestOfAConnectionGetsItsOwnBotVerdictAndAddress() async throws {
        let cli = try CLI()
        try await Self.withConnection(cli, http: "  trust_forwarded_for: true") { connection in
            func tap(_ id: String, _ headers: String, method: String = "GET") -> String {
                "\(method) /summer-sale?click_id=\(id) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n"
            }
            try connection.send(
                tap("memo-1", "User-Agent: Mozilla/5.0 (iPhone)\r\n")
                    + tap("memo-2", "User-Agent: Mozilla/5.0 (iPhone)\r\n")
                    + tap("memo-3", "User-Agent: facebookexternalhit/1.1\r\n")
                    + tap("memo-4", "User-Agent: Mozilla/5.0 (iPhone)\r\nX-Forwarded-For: 198.51.100.77\r\n")
                    + tap("memo-5", "User-Agent: Mozilla/5.0 (iPhone)\r\n", method: "HEAD")
                    + tap("memo-6", "User-Agent: Mozilla/5.0 (iPhone)\r\nConnection: close\r\n"))
            let answer = connection.readUntilClosed(timeout: 10)
            #expect(answer.closed)
            #expect(answer.text.matches(of: #/HTTP/1\.1 302 /#).count == 6)
            let visits = Dictionary(
                try await Self.visits(cli, atLeast: 6).map { ($0.clickID ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            #expect(visits["memo-1"]?.botReason == nil && visits["memo-2"]?.botReason == nil)
            #expect(visits["memo-3"]?.botReason == "meta_crawler")
            #expect(visits["memo-5"]?.botReason == "head_request")
            #expect(visits["memo-6"]?.botReason == nil)
            #expect(visits["memo-1"]?.ip == "127.0.0.0" && visits["memo-6"]?.ip == "127.0.0.0")
            #expect(visits["memo-4"]?.ip == "198.51.100.0")
        }
    }

    /// The fast path writes its answers' bytes itself: for a redirect, a 404 and a landing page, GET and HEAD, its
    /// answer has the same status line, fields (in order) and body as NIO's encoder gives the same request on the
    /// decoder's path (a GET with a body is declined by the fast path), but for the Date, the new visitor's id,
    /// and the `connection: close` the second request asks for.
    @Test func theFastPathAnswersWithTheBytesTheDecoderPathGives() async throws {
        let cli = try CLI()
        let page = "  - slug: page\n    destination: https://shop.example.com/page\n    mode: landing\n"
        let (server, port) = try cli.startServer(extra: page)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        for method in ["GET", "HEAD"] {
            for target in ["/summer-sale?click_id=same-1&utm_source=wa", "/no-such-page", "/page?click_id=same-2"] {
                let connection = try RawConnection(port: port)
                let plain = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
                let declined =
                    "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\n"
                    + "Connection: close\r\nContent-Length: 5\r\n\r\nhello"
                try connection.send(plain + declined)
                let answer = connection.readUntilClosed(timeout: 10)
                #expect(answer.closed)
                let answers = answer.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { text in
                    ("HTTP/1.1 " + text).components(separatedBy: "\r\n").filter {
                        !$0.hasPrefix("Date: ") && $0 != "connection: close"
                    }.map { $0.replacing(#/ca_vid=[0-9a-f]{32}/#, with: "ca_vid=ID") }
                }
                #expect(answers.count == 2, "\(method) \(target)")
                #expect(answers.first == answers.last, "\(method) \(target)")
                #expect(answers.first?.first?.hasPrefix("HTTP/1.1 ") == true)
            }
        }
    }
}
