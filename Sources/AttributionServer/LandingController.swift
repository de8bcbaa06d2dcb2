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
    /// The header fields of a landing page, with `http.landing_csp` as its Content-Security-Policy: made once.
    let landingPageFields: [(String, String)]
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
        for (name, value) in decision.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(
            status: decision.status, headers: fields,
            body: decision.body.readableBytes == 0 ? .init() : .init(byteBuffer: decision.body))
    }

    /// What a landing request records and answers, decided without waiting for anything: the same for the router
    /// and for code on an event loop.
    struct Decision {
        /// Nil for an orphan visit over its address's allowance: answered, counted (by `decide`), not stored.
        var visit: Visit?
        var status: HTTPResponse.Status
        /// As NIO's HTTP/1 encoder takes them (the landing channel handler's answers skip HTTP types); always with
        /// Content-Length.
        var headers: [(String, String)]
        /// Empty for HEAD (whose Content-Length still says what GET would send).
        var body: ByteBuffer
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

        var (status, answerHeaders, body) = try answer(target, query: query, clickID: clickIDs.primary)
        if knownVisitor == nil {
            answerHeaders.append(("Set-Cookie", VisitorCookie.setCookieHeader(visitorID)))
        }
        // Content-Length says what GET sends, also for HEAD.
        answerHeaders.append(("Content-Length", String(body.readableBytes)))
        if method == .head { body = ByteBuffer() }
        return Decision(visit: stored ? visit : nil, status: status, headers: answerHeaders, body: body)
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
    ) throws -> (HTTPResponse.Status, [(String, String)], ByteBuffer) {
        guard let target else {
            return (.notFound, Self.notFoundFields, Self.notFoundBody)
        }
        let route = target.route
        let location = target.location.location(query: query, passthrough: route.passthroughQuery)
        switch route.mode {
        case .redirect:
            var fields = Self.redirectFields
            // Room for the Set-Cookie and Content-Length that `decide` adds.
            fields.reserveCapacity(fields.count + 3)
            fields.append(("Location", location))
            return (.found, fields, ByteBuffer())
        case .landing:
            let context: [String: Any] = ["destination": location, "slug": route.slug, "click_id": clickID ?? ""]
            guard let html = templates.render(context, withTemplate: "landing") else {
                throw HTTPError(.internalServerError, message: "the landing template is missing")
            }
            return (
                .ok, landingPageFields,
                ByteBuffer(string: html)
            )
        }
    }

    /// The header fields of a landing page whose Content-Security-Policy is `policy`.
    static func landingPageFields(policy: String) -> [(String, String)] {
        pairs(SecurityHeaders.fields(contentType: "text/html; charset=utf-8", policy: policy))
    }

    private static func pairs(_ fields: HTTPFields) -> [(String, String)] {
        fields.map { ($0.name.rawName, $0.value) }
    }

    // Made once: every landing answer starts from one of these.
    private static let notFoundFields = pairs(SecurityHeaders.fields(contentType: "text/plain; charset=utf-8"))
    private static let notFoundBody = ByteBuffer(string: "Not found\n")
    private static let redirectFields = pairs([.cacheControl: "no-store", .referrerPolicy: SecurityHeaders.referrerPolicy])

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
