import AttributionCore
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// `GET /dashboard` and its login: the attribution of a range of UTC click days, rendered on the server.
struct DashboardController {
    /// The API keys (bearer or session cookie) that open the page; the login checks a typed key against them.
    let access: ReportAccess
    let summaries: SummaryRollups
    let store: any Store
    let templates: MustacheLibrary
    /// Wrong keys tried a minute per address before the login answers 429.
    let failedLogins: AddressLimiter
    let trustForwardedFor: Bool
    let servesTLS: Bool
    let webhookPath: String
    let now: @Sendable () -> Int64

    /// The dashboard's own policy: its inline style and SVG, forms posting back to itself, nothing else.
    static let policy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    static let defaultDays: Int64 = 7
    /// How long a page waits for the database (or for the rollups another page is counting).
    static let patience: Duration = .seconds(15)
    /// The longest range one page shows.
    static let maximumDays: Int64 = 400

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/dashboard") { request, context in try await dashboard(request, context: context) }
        router.get("/dashboard/login") { request, _ in
            access.allows(request) ? Self.seeOther("/dashboard") : page("login", ["signed_in": false], status: .ok)
        }
        router.post("/dashboard/login") { request, context in try await login(request, context: context) }
        router.post("/dashboard/logout") { request, _ in
            guard Self.sameOrigin(request) else { return Self.forbidden() }
            var response = Self.seeOther("/dashboard/login")
            response.headers[.setCookie] = DashboardSession.clearCookie(secure: isSecure(request))
            return response
        }
    }

    private func dashboard(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard access.allows(request) else { return Self.seeOther("/dashboard/login") }
        let parameters = request.uri.queryParameters
        let today = now().floorDivided(by: 86_400_000).quotient
        let days: ClosedRange<Int64>
        do throws(UsageError) {
            days = try Self.range(
                first: parameters["first_day"].map(String.init), last: parameters["last_day"].map(String.init), today: today)
        } catch {
            let typed = [parameters["first_day"], parameters["last_day"]].map { $0.map(String.init) ?? "" }
            return page(
                "dashboard",
                ["range_error": error.description, "first_day": typed[0], "last_day": typed[1], "signed_in": signedIn(request)],
                status: .badRequest)
        }
        let windowMilliseconds = summaries.windowMilliseconds
        let query = ReportQuery(
            from: days.lowerBound * 86_400_000, to: (days.upperBound + 1) * 86_400_000, windowMilliseconds: windowMilliseconds)
        let (store, summaries) = (self.store, self.summaries)
        let figures: (reports: [SummaryReport], latest: [ClickReportRow], marks: ChangeMarks)
        do {
            figures = try await withTimeout(Self.patience) {
                async let latest = store.latestClicks(query, limit: DashboardPage.latestCount)
                let reports = try await summaries.reports(days: days)
                return (reports, try await latest, try await store.changeMarks())
            }
        } catch {
            let timedOut = error is CancellationError
            context.logger.error("dashboard not shown: \(timedOut ? "the database did not answer in time" : "\(error)")")
            let reason = timedOut
                ? "The database did not answer within \(Self.patience.components.seconds) s"
                : "The database could not be read"
            var response = page(
                "dashboard",
                [
                    "range_error": "\(reason), so the figures cannot be shown; try again in a moment.",
                    "first_day": DashboardPage.label(days.lowerBound), "last_day": DashboardPage.label(days.upperBound),
                    "signed_in": signedIn(request),
                ], status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        }
        let marks = figures.marks
        let view = DashboardPage(
            days: days, reports: figures.reports, latest: figures.latest,
            databaseIsEmpty: marks.actions == 0 && marks.visits == 0 && marks.conversions == 0,
            signedIn: signedIn(request), webhookPath: webhookPath)
        return page("dashboard", view.context, status: .ok)
    }

    private func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard Self.sameOrigin(request) else { return Self.forbidden() }
        let address = context.clientAddress(of: request, trustForwardedFor: trustForwardedFor)
        let time = now()
        if failedLogins.isExhausted(address, at: time) {
            var response = page(
                "login", ["error": "Too many wrong keys from this address. Wait a minute, then try again."],
                status: .tooManyRequests)
            response.headers[.retryAfter] = "60"
            return response
        }
        let body = try await request.body.collect(upTo: 4096)
        let form = QueryString.parse(Substring(String(buffer: body)))
        let key = form.first(where: { $0.name == "key" })?.value?.trimmingCharacters(in: .whitespaces) ?? ""
        guard access.keys.accepts(key), let cookie = access.sessions.issue(forKey: key, nowSeconds: time / 1000) else {
            _ = failedLogins.allows(address, at: time)
            return page("login", ["error": "That is not one of this service's API keys (api.keys)."], status: .unauthorized)
        }
        var response = Self.seeOther("/dashboard")
        response.headers[.setCookie] = DashboardSession.setCookie(cookie, secure: isSecure(request))
        return response
    }

    /// The UTC days from `first` to `last`, both included; the last 7 days up to today without them.
    static func range(first: String?, last: String?, today: Int64) throws(UsageError) -> ClosedRange<Int64> {
        func day(_ text: String?, _ name: String) throws(UsageError) -> Int64? {
            guard let text, !text.isEmpty else { return nil }
            guard text.count == 10, let milliseconds = Timestamp.parse(text) else {
                throw UsageError("\(name) '\(text)' is not a date such as 2026-11-28")
            }
            return milliseconds.floorDivided(by: 86_400_000).quotient
        }
        let lastDay = try day(last, "last_day") ?? today
        let firstDay = try day(first, "first_day") ?? lastDay - defaultDays + 1
        guard firstDay <= lastDay else { throw UsageError("first_day must not be after last_day") }
        guard lastDay - firstDay < maximumDays else {
            throw UsageError("a page shows at most \(maximumDays) days; choose a shorter range or use the report API")
        }
        return firstDay...lastDay
    }

    private func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status) -> Response {
        let html = templates.render(context, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status, headers: SecurityHeaders.fields(contentType: "text/html; charset=utf-8", policy: Self.policy),
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func signedIn(_ request: Request) -> Bool {
        access.sessions.accepts(DashboardSession.cookie(request), nowSeconds: now() / 1000)
    }

    /// Over TLS here, or behind a trusted proxy that says the client used HTTPS.
    private func isSecure(_ request: Request) -> Bool {
        if servesTLS { return true }
        guard trustForwardedFor, let proto = request.headers[.xForwardedProto] else { return false }
        return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    /// A form post from another site is refused: browsers send Origin with every POST.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    private static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    private static func forbidden() -> Response {
        .json(.object(["error": .string("a form from another site cannot post here")]), status: .forbidden)
    }
}

extension HTTPField.Name {
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
