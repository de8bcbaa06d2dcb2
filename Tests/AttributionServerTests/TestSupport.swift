import AttributionCore
import AttributionServer
import AttributionStore
import ClickattrTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// One app over a fresh SQLite file, with the secrets and routes the tests use.
struct TestService {
    static let appSecret = "test-app-secret"
    static let verifyToken = "test-verify-token"
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let config: ClickattrConfig
    let store: SQLiteStore

    init(_ adjust: (inout ClickattrConfig) -> Void = { _ in }) throws {
        var config = ClickattrConfig()
        config.http.port = 0
        let scratch = try Scratch.directory("server")
        config.storage.sqlitePath = scratch.appendingPathComponent("clickattr.sqlite").path
        config.storage.spoolPath = scratch.appendingPathComponent("spool.sqlite").path
        config.webhook.appSecret = Self.appSecret
        config.webhook.verifyToken = Self.verifyToken
        config.tracking.clickIDParameters = ["click_id", "fbclid"]
        config.routes = [
            Route(slug: "summer-sale", destination: "https://shop.example.com/summer?utm_source=whatsapp"),
            Route(slug: "plain", destination: "https://shop.example.com/plain", passthroughQuery: false),
            Route(slug: "catalogue", destination: "https://shop.example.com/catalogue", mode: .landing),
        ]
        adjust(&config)
        self.config = config
        self.store = try SQLiteStore(path: config.storage.sqlitePath)
    }

    /// Runs `body` against the app served on a real socket (HummingbirdTesting's live client), so landing requests
    /// take the landing channel handler and every other request the router, as in production; `store` defaults to
    /// the SQLite file. `.router` skips the socket, for tests of the router's routes that need requests in
    /// parallel (the live client has one connection, which answers in order) or a target no client would send.
    @discardableResult
    func test<Value>(
        _ mode: TestingSetup = .live, store: (any Store)? = nil, logger: Logger? = nil,
        now: @escaping @Sendable () -> Int64 = Clock.milliseconds,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        var quiet = Logger(label: "clickattr-test")
        quiet.logLevel = .critical
        let app = try await buildApplication(config: config, logger: logger ?? quiet, store: store ?? self.store, now: now)
        return try await app.test(mode, body)
    }

    /// The newest `count` visits, once that many have reached the database: a visit is answered once it is in
    /// the spool, and shipped from there within about 50 ms.
    func visits(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Visit] {
        for _ in 0..<500 {
            if try await store.counts().visits >= count { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let visits = try await store.recentVisits(limit: count)
        #expect(visits.count == count, "visits shipped from the spool", sourceLocation: sourceLocation)
        return visits
    }

    /// A request on a connection of its own to the live server `client` talks to: visitors do not share one.
    static func alone(
        _ client: any TestClientProtocol, _ uri: String, method: HTTPRequest.Method = .get
    ) async throws -> TestClient.Response {
        let port = try #require(client.port)
        return try await TestClient.withClient(host: "localhost", port: port) { connection in
            try await connection.execute(.init(uri, method: method))
        }
    }

    static func signed(_ body: [UInt8], secret: String = appSecret) -> HTTPFields {
        [.contentType: "application/json", .hubSignature: WebhookSignature.header(for: body, appSecret: secret)]
    }

    static let iPhone =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
}

enum Fixtures {
    static func body(_ name: String) throws -> [UInt8] {
        let url = TestService.packageRoot.appendingPathComponent("Tests/Fixtures/\(name)")
        var bytes = Array(try Data(contentsOf: url))
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes
    }

    /// A delivery of `count` link clicks spread over several entries and changes, as Meta batches them.
    static func batch(clicks count: Int, prefix: String = "click", timestamp: Int = 1_764_331_200) -> [UInt8] {
        let actions = (0..<count).map { index in
            #"{"action_type":"marketing_messages_link_click","timestamp":"\#(timestamp + index)","marketing_messages_link_click_data":{"click_component":"\#(index % 2 == 0 ? "cta" : "body")","product_id":"sku_\#(index % 7)","click_id":"\#(prefix)-\#(index)","tracking_token":"tt_\#(index)"}}"#
        }
        let changes = stride(from: 0, to: count, by: 250).map { start in
            #"{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"user_actions":[\#(actions[start..<min(start + 250, count)].joined(separator: ","))]}}"#
        }
        let half = changes.count / 2
        let text = #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[\#(changes[..<half].joined(separator: ","))]},{"id":"102290129340399","changes":[\#(changes[half...].joined(separator: ","))]}]}"#
        return Array(text.utf8)
    }
}

extension TestClientProtocol {
    /// POSTs a webhook body, signed with the test app secret unless other headers are given, and checks the status.
    @discardableResult
    func postWebhook(
        _ body: [UInt8], headers: HTTPFields? = nil, expecting status: HTTPResponse.Status,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        let response = try await execute(
            uri: "/webhooks/whatsapp", method: .post, headers: headers ?? TestService.signed(body),
            body: ByteBuffer(bytes: body))
        #expect(response.status == status, sourceLocation: sourceLocation)
        return response
    }
}

extension ByteBuffer {
    init(bytes: [UInt8]) {
        self.init()
        self.writeBytes(bytes)
    }
}

extension HTTPField.Name {
    static let hubSignature = Self("X-Hub-Signature-256")!
    static let forwardedFor = Self("X-Forwarded-For")!
}
