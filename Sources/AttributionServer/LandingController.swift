import AttributionCore
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// The landing host: every `GET /{slug}` is recorded as a visit, then redirected or answered with a page.
struct LandingController {
    static let maximumPathBytes = 1024
    static let maximumHeaderBytes = 2048

    let routes: [String: (route: Route, location: RedirectLocation)]
    let clickIDParameters: [String]
    let anonymizer: IPAnonymizer
    let classifier: BotClassifier
    let trustForwardedFor: Bool
    let recorder: VisitRecorder
    let orphans: AddressLimiter
    let templates: MustacheLibrary
    /// The Content-Security-Policy of landing pages (`http.landing_csp`).
    let landingPolicy: String
    let now: @Sendable () -> Int64

    func addRoutes(to router: Router<AppRequestContext>) {
        for path in ["/", "**"] {
            router.get(RouterPath(path), use: visit)
            router.head(RouterPath(path), use: visit)
        }
    }

    @Sendable func visit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let path = request.uri.path
        let target = path.hasPrefix("/") ? routes[String(path.dropFirst())] : nil
        let query = QueryString.parse(Substring(request.uri.query ?? ""))
        let clickIDs = ClickID.extract(from: query, parameters: clickIDParameters)
        let knownVisitor = VisitorCookie.read(request.headers)
        let visitedAt = now()
        let visitorID = knownVisitor ?? VisitorCookie.newID(now: visitedAt)
        let userAgent = request.headers[.userAgent]
        let address = context.clientAddress(of: request, trustForwardedFor: trustForwardedFor)

        let visit = Visit(
            visitedAt: visitedAt, method: request.method.rawValue, path: Self.bounded(path, Self.maximumPathBytes),
            slug: target?.route.slug, clickID: clickIDs.primary, clickParameters: clickIDs.all,
            clickIDProblem: clickIDs.problem, visitorID: visitorID,
            userAgent: userAgent.map { Self.bounded($0, Self.maximumHeaderBytes) },
            referrer: request.headers[.referer].map { Self.bounded($0, Self.maximumHeaderBytes) },
            ip: address.flatMap(anonymizer.anonymize),
            botReason: classifier.botReason(userAgent: userAgent, method: request.method.rawValue))
        if target != nil || orphans.allows(address, at: visitedAt) {
            await recorder.record(visit, logger: context.logger)
        } else {
            recorder.metrics.visitNotRecorded(reason: "orphan_rate_limit")
        }

        var response = try answer(target, query: query, clickID: clickIDs.primary)
        if knownVisitor == nil {
            response.headers[.setCookie] = VisitorCookie.setCookieHeader(visitorID)
        }
        if request.method == .head {
            let length = response.body.contentLength ?? 0
            response.body = .init()
            response.headers[.contentLength] = String(length)
        }
        return response
    }

    private func answer(
        _ target: (route: Route, location: RedirectLocation)?, query: [QueryString.Pair], clickID: String?
    ) throws -> Response {
        guard let (route, redirect) = target else {
            return .plainText("Not found\n", status: .notFound)
        }
        let location = redirect.location(query: query, passthrough: route.passthroughQuery)
        switch route.mode {
        case .redirect:
            return Response(
                status: .found,
                headers: [
                    .location: location, .cacheControl: "no-store", .contentLength: "0",
                    .referrerPolicy: SecurityHeaders.referrerPolicy,
                ])
        case .landing:
            let context: [String: Any] = ["destination": location, "slug": route.slug, "click_id": clickID ?? ""]
            guard let html = templates.render(context, withTemplate: "landing") else {
                throw HTTPError(.internalServerError, message: "the landing template is missing")
            }
            return Response(
                status: .ok,
                headers: SecurityHeaders.fields(contentType: "text/html; charset=utf-8", policy: landingPolicy),
                body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

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
