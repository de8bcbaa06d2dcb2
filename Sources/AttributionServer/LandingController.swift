import AttributionCore
import AttributionStore
import Foundation
import NIOCore
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import NIOHTTP1

/// The landing host: every `GET /{slug}` is recorded as a visit, then redirected or answered with a page.
struct LandingController {
    /// A configured route and where it sends visitors, looked up on every landing request: one reference to
    /// retain rather than each of their strings.
    final class Target: Sendable {
        let route: Route
        let location: RedirectLocation

        init(_ route: Route) {
            self.route = route
            location = RedirectLocation(destination: route.destination)
        }
    }

    static let maximumPathBytes = 1024
    static let maximumHeaderBytes = 2048

    let routes: [String: Target]
    let clickIDParameters: [String]
    let anonymizer: IPAnonymizer
    let classifier: BotClassifier
    let trustForwardedFor: Bool
    let recorder: VisitRecorder
    let orphans: AddressLimiter
    let templates: MustacheLibrary
    /// The status and header fields of a landing page, with `http.landing_csp` as its Content-Security-Policy:
    /// made once.
    let landingPageFields: FixedFields
    let now: @Sendable () -> Int64

    func addRoutes(to router: Router<AppRequestContext>) {
        for path in ["/", "**"] {
            router.get(RouterPath(path), use: visit)
            router.head(RouterPath(path), use: visit)
        }
    }

    /// Over HTTP/2 (native TLS), where landing requests take the router's path.
    @Sendable func visit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let decision = try decide(
            method: request.method, path: request.uri.path, query: request.uri.query, headers: request.headers,
            remoteAddress: context.remoteAddress)
        if let visit = decision.visit { await recorder.record(visit) }
        var fields = HTTPFields()
        for (name, value) in decision.fields.pairs {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(
            status: decision.fields.fixed.status, headers: fields,
            body: decision.body.readableBytes == 0 ? .init() : .init(byteBuffer: decision.body))
    }

    /// What a landing request records and answers, decided without waiting for anything: the same for the router
    /// and for code on an event loop.
    struct Decision {
        /// Nil for an orphan visit over its address's allowance: answered, counted (by `decide`), not stored.
        var visit: Visit?
        /// The status and header fields (without Date and Server).
        var fields: AnswerFields
        /// Empty for HEAD (whose Content-Length still says what GET would send).
        var body: ByteBuffer
    }

    /// An answer's status and the header fields its kind always has (a redirect's, a landing page's, a 404's), as
    /// pairs and as the bytes of its HTTP/1.1 status line and fields: made once, not per request.
    final class FixedFields: Sendable {
        let status: HTTPResponse.Status
        let pairs: [(String, String)]
        let head: ByteBuffer

        init(status: HTTPResponse.Status, pairs: [(String, String)]) {
            self.status = status
            self.pairs = pairs
            var head = ByteBuffer(string: "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
            for (name, value) in pairs { head.writeField(name, value) }
            self.head = head
        }
    }

    /// An answer's header fields other than Date and Server, in the order they are sent: the fixed ones of its
    /// kind, then Location (redirects), Set-Cookie (a new visitor) and Content-Length (always; for HEAD what GET
    /// would send).
    struct AnswerFields {
        let fixed: FixedFields
        var location: String?
        /// The visitor id a new visitor is given in Set-Cookie.
        var newVisitorID: String?
        var contentLength: Int

        /// The fields as name and value pairs, for the router's answers and NIO's encoder.
        var pairs: [(String, String)] {
            var pairs = fixed.pairs
            if let location { pairs.append(("Location", location)) }
            if let newVisitorID { pairs.append(("Set-Cookie", VisitorCookie.setCookieHeader(newVisitorID))) }
            pairs.append(("Content-Length", String(contentLength)))
            return pairs
        }

        /// Writes the status line and the fields as HTTP/1.1 sends them, each ended by CRLF.
        func write(into bytes: inout ByteBuffer) {
            bytes.writeImmutableBuffer(fixed.head)
            if let location { bytes.writeField("Location", location) }
            if let newVisitorID {
                bytes.writeStaticString("Set-Cookie: ")
                VisitorCookie.writeSetCookie(newVisitorID, into: &bytes)
                bytes.writeStaticString("\r\n")
            }
            bytes.writeField("Content-Length", String(contentLength))
        }
    }

    /// What the requests of one connection share, worked out for its first request and reused by the next: the
    /// visitor's address as stored (from the connection's peer), and the bot verdict on its user agent. Kept by
    /// the landing handlers, one per connection, on its event loop.
    final class ConnectionMemo {
        fileprivate var peer: (address: String?, stored: String?)?
        fileprivate var agent: (userAgent: String?, botReason: String?)?

        init() {}
    }

    func decide(
        method: HTTPRequest.Method, path: String, query rawQuery: String?, headers: some LandingHeaders,
        remoteAddress: SocketAddress?, memo: ConnectionMemo? = nil
    ) throws -> Decision {
        let target = path.hasPrefix("/") ? routes[String(path.dropFirst())] : nil
        let query = QueryString.parse(Substring(rawQuery ?? ""))
        let clickIDs = ClickID.extract(from: query, parameters: clickIDParameters)
        let knownVisitor = VisitorCookie.read(headers)
        let visitedAt = now()
        let visitorID = knownVisitor ?? VisitorCookie.newID(now: visitedAt)
        let userAgent = headers.first(.userAgent)
        let (address, ip) = visitorAddress(headers: headers, remoteAddress: remoteAddress, memo: memo)
        let botReason: String?
        if method == .get, let agent = memo?.agent, agent.userAgent == userAgent {
            botReason = agent.botReason
        } else {
            botReason = classifier.botReason(userAgent: userAgent, method: method.rawValue)
            if method == .get { memo?.agent = (userAgent, botReason) }
        }

        let visit = Visit(
            visitedAt: visitedAt, method: method.rawValue, path: Self.bounded(path, Self.maximumPathBytes),
            slug: target?.route.slug, clickID: clickIDs.primary, clickParameters: clickIDs.all,
            clickIDProblem: clickIDs.problem, visitorID: visitorID,
            userAgent: userAgent.map { Self.bounded($0, Self.maximumHeaderBytes) },
            referrer: headers.first(.referer).map { Self.bounded($0, Self.maximumHeaderBytes) },
            ip: ip, botReason: botReason)
        let stored = target != nil || orphans.allows(address, at: visitedAt)
        if !stored { recorder.metrics.visitNotRecorded(reason: "orphan_rate_limit") }

        var (fixed, location, body) = try answer(target, query: query, clickID: clickIDs.primary)
        // Content-Length says what GET sends, also for HEAD.
        let fields = AnswerFields(
            fixed: fixed, location: location, newVisitorID: knownVisitor == nil ? visitorID : nil,
            contentLength: body.readableBytes)
        if method == .head { body = ByteBuffer() }
        return Decision(visit: stored ? visit : nil, fields: fields, body: body)
    }

    /// The visitor's address (for the orphan allowance) and the address as stored (anonymized); the peer's are
    /// worked out once per connection.
    private func visitorAddress(headers: some LandingHeaders, remoteAddress: SocketAddress?, memo: ConnectionMemo?)
        -> (address: String?, stored: String?)
    {
        if trustForwardedFor, let address = AppRequestContext.forwardedAddress(headers) {
            return (address, anonymizer.anonymize(address))
        }
        if let peer = memo?.peer { return peer }
        let address = remoteAddress?.ipAddress
        let peer = (address, address.flatMap(anonymizer.anonymize))
        memo?.peer = peer
        return peer
    }

    private func answer(
        _ target: Target?, query: [QueryString.Pair], clickID: String?
    ) throws -> (FixedFields, location: String?, ByteBuffer) {
        guard let target else {
            return (Self.notFoundFields, nil, Self.notFoundBody)
        }
        let route = target.route
        let location = target.location.location(query: query, passthrough: route.passthroughQuery)
        switch route.mode {
        case .redirect:
            return (Self.redirectFields, location, ByteBuffer())
        case .landing:
            let context: [String: Any] = ["destination": location, "slug": route.slug, "click_id": clickID ?? ""]
            guard let html = templates.render(context, withTemplate: "landing") else {
                throw HTTPError(.internalServerError, message: "the landing template is missing")
            }
            return (landingPageFields, nil, ByteBuffer(string: html))
        }
    }

    /// The status and header fields of a landing page whose Content-Security-Policy is `policy`.
    static func landingPageFields(policy: String) -> FixedFields {
        FixedFields(
            status: .ok, pairs: pairs(SecurityHeaders.fields(contentType: "text/html; charset=utf-8", policy: policy)))
    }

    private static func pairs(_ fields: HTTPFields) -> [(String, String)] {
        fields.map { ($0.name.rawName, $0.value) }
    }

    // Made once: every landing answer starts from one of these.
    private static let notFoundFields = FixedFields(
        status: .notFound, pairs: pairs(SecurityHeaders.fields(contentType: "text/plain; charset=utf-8")))
    private static let notFoundBody = ByteBuffer(string: "Not found\n")
    private static let redirectFields = FixedFields(
        status: .found, pairs: pairs([.cacheControl: "no-store", .referrerPolicy: SecurityHeaders.referrerPolicy]))
    /// A failed answer (a landing template that would not render): no fields but its length.
    static let failedFields = FixedFields(status: .internalServerError, pairs: [])

    /// Cuts text to at most `limit` UTF-8 bytes without splitting a character.
    static func bounded(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            result.append(character)
            used += size
        }
        return result
    }
}

extension ByteBuffer {
    /// Writes one HTTP/1.1 header field line, `name: value` and CRLF.
    mutating func writeField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}

/// A request's header fields as the landing path reads them: HTTP types' fields (the router's requests) or NIO's
/// HTTP/1 headers (the landing channel handler's).
protocol LandingHeaders {
    /// The first value of the field.
    func first(_ name: HTTPField.Name) -> String?
    /// Every value of the field, in order.
    func all(_ name: HTTPField.Name) -> [String]
}

extension HTTPFields: LandingHeaders {
    func first(_ name: HTTPField.Name) -> String? { self[name] }
    func all(_ name: HTTPField.Name) -> [String] { self[values: name] }
}

extension HTTPHeaders: LandingHeaders {
    func first(_ name: HTTPField.Name) -> String? { first(name: name.rawName) }
    func all(_ name: HTTPField.Name) -> [String] { self[name.rawName] }
}
