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

/// The dashboard over a seeded database: every figure equals `report summary` / `report clicks`, the rollups follow
/// new rows and purges, and the login is a signed cookie bound to its key.
@Suite struct DashboardTests {
    static let key = "dashboard-key"
    /// 2025-11-30T12:00:00Z: the demo's "now", so the seeded data and its days are fixed.
    static let now: Int64 = 1_764_504_000_000
    static let bearer: HTTPFields = [.authorization: "Bearer \(key)"]

    static func service(_ adjust: (inout ClickattrConfig) -> Void = { _ in }) throws -> TestService {
        try TestService {
            $0.api.keys = [key, "other-key"]
            adjust(&$0)
        }
    }

    /// A service over two weeks of demo traffic.
    static func seeded() async throws -> TestService {
        let service = try service()
        _ = try await DemoData.run(config: service.config, seed: 3, now: now)
        return service
    }

    // MARK: Figures

    /// `report summary` rows of a range as dictionaries of CSV text, by column name.
    static func summary(
        _ store: any Store, from: String, to: String, groupBy: String? = nil
    ) async throws -> [[String: String]] {
        var text = ""
        try await Reports.summary(
            store: store,
            request: Reports.Request(from: from, to: to, format: "csv", windowMilliseconds: 7 * 86_400_000),
            groupBy: try Reports.groupKeys(groupBy)
        ) { text += $0 }
        let lines = text.split(separator: "\r\n").map(String.init)
        let columns = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(columns, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    static func matches(_ pattern: String, in text: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (1..<match.numberOfRanges).map { String(text[Range(match.range(at: $0), in: text)!]) }
        }
    }

    /// The page's totals: `data-name` to `data-value`.
    static func totals(_ page: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: matches(#"data-name="([a-z0-9_]+)" data-value="([^"]*)""#, in: page).map { ($0[0], $0[1]) })
    }

    static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func page(_ client: any TestClientProtocol, _ query: String) async throws -> String {
        let response = try await client.execute(uri: "/dashboard?\(query)", method: .get, headers: bearer)
        #expect(response.status == .ok)
        return String(buffer: response.body)
    }

    /// Checks every figure of the page against the reports for the same days.
    static func expectPageEqualsReports(
        _ page: String, store: any Store, first: String, last: String, days: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let end = Timestamp.format(Timestamp.parse(last)! + 86_400_000).prefix(10)
        let from = first
        let to = String(end)
        let measures = [
            "clicks", "visited_clicks", "visit_rate", "orphan_visits", "bot_visits", "p50_click_to_visit_ms",
            "p90_click_to_visit_ms", "p99_click_to_visit_ms", "conversions", "conversion_rate", "conversion_value",
        ]
        let total = try await summary(store, from: from, to: to)[0]
        let shown = totals(page)
        for name in measures {
            #expect(shown[name] == total[name], "\(name)", sourceLocation: sourceLocation)
        }
        // Every day of the range, a day without clicks as zeros.
        let byDay = Dictionary(uniqueKeysWithValues: try await summary(store, from: from, to: to, groupBy: "day").map { ($0["day"]!, $0) })
        let rows = matches(
            #"<tr data-day="([0-9-]+)"><td>[^<]*</td><td data-value="([0-9]*)">[^<]*</td><td data-value="([0-9]*)">[^<]*</td><td data-value="([0-9]*)">[^<]*</td><td data-value="([0-9]*)">"#,
            in: page)
        #expect(rows.count == days, sourceLocation: sourceLocation)
        for row in rows {
            let day = byDay[row[0]]
            #expect(row[1] == (day?["clicks"] ?? "0"), "clicks of \(row[0])", sourceLocation: sourceLocation)
            #expect(row[2] == (day?["visited_clicks"] ?? "0"), "visited clicks of \(row[0])", sourceLocation: sourceLocation)
            #expect(row[3] == (day?["conversions"] ?? "0"), "conversions of \(row[0])", sourceLocation: sourceLocation)
            #expect(row[4] == (day?["orphan_visits"] ?? "0"), "orphans of \(row[0])", sourceLocation: sourceLocation)
        }
        // Each breakdown: the groups with clicks (by route, also those with only orphans), each figure as reported.
        for key in ["product_id", "click_component", "slug", "waba_id"] {
            guard let section = matches(#"data-breakdown="\#(key)">(.*?)</section>"#, in: page).first?[0] else {
                Issue.record("no breakdown by \(key)", sourceLocation: sourceLocation)
                continue
            }
            let shownRows = matches(#"<tr data-key="([^"]*)">(.*?)</tr>"#, in: section).map { row in
                (key: unescaped(row[0]),
                 cells: Dictionary(uniqueKeysWithValues: matches(#"data-col="([a-z_]+)" data-value="([^"]*)""#, in: row[1]).map { ($0[0], unescaped($0[1])) }))
            }
            let reported = try await summary(store, from: from, to: to, groupBy: key).filter {
                $0["clicks"] != "0" || (key == "slug" && $0["orphan_visits"] != "0")
            }
            #expect(!shownRows.isEmpty && shownRows.count == reported.count, "rows by \(key)", sourceLocation: sourceLocation)
            let byKey = Dictionary(uniqueKeysWithValues: reported.map { ($0[key]!, $0) })
            for row in shownRows {
                let expected = try #require(byKey[row.key], "\(key) \(row.key) is reported", sourceLocation: sourceLocation)
                let columns = ["clicks", "visited_clicks", "conversions", "conversion_value"]
                    + (key == "slug" ? ["orphan_visits"] : ["visit_rate"])
                #expect(Set(row.cells.keys) == Set(columns), sourceLocation: sourceLocation)
                for column in columns {
                    #expect(row.cells[column] == expected[column], "\(key) \(row.key) \(column)", sourceLocation: sourceLocation)
                }
            }
        }
        // The latest clicks: the last rows of `report clicks`, newest first.
        var clicks: [ClickReportRow] = []
        var cursor: ReportCursor?
        let query = ReportQuery(from: Timestamp.parse(from), to: Timestamp.parse(to), windowMilliseconds: 7 * 86_400_000)
        repeat {
            let page = try await store.clickReportPage(query, after: cursor, limit: 1000)
            clicks += page.rows
            cursor = page.next
        } while cursor != nil
        let latest = matches(#"<tr data-click-id="([^"]*)">"#, in: page).map { unescaped($0[0]) }
        #expect(latest == clicks.suffix(20).reversed().map(\.clickID), sourceLocation: sourceLocation)
    }

    @Test func everyFigureEqualsTheReportsForTheSameDays() async throws {
        let service = try await Self.seeded()
        try await service.test(now: { Self.now }) { client in
            // The default: the last 7 days up to today.
            let page = try await Self.page(client, "")
            #expect(page.contains(#"value="2025-11-24""#) && page.contains(#"value="2025-11-30""#))
            try await Self.expectPageEqualsReports(page, store: service.store, first: "2025-11-24", last: "2025-11-30", days: 7)
            // Two weeks, and a range reaching past the data: days without clicks are zeros, not gaps.
            let weeks = try await Self.page(client, "first_day=2025-11-17&last_day=2025-11-30")
            try await Self.expectPageEqualsReports(weeks, store: service.store, first: "2025-11-17", last: "2025-11-30", days: 14)
            let past = try await Self.page(client, "first_day=2025-11-25&last_day=2025-12-04")
            try await Self.expectPageEqualsReports(past, store: service.store, first: "2025-11-25", last: "2025-12-04", days: 10)
            #expect(past.contains(#"<tr data-day="2025-12-04"><td>2025-12-04</td><td data-value="0">0</td>"#))
            // Charts have axis labels and units, and the downloads name the same days.
            #expect(weeks.contains("count per day") && weeks.contains("UTC click day") && weeks.contains("visited clicks"))
            #expect(weeks.contains("/api/v1/reports/clicks?from=2025-11-17&amp;to=2025-12-01&amp;format=csv"))
            #expect(weeks.contains("p50 ") && weeks.contains("p90 ") && weeks.contains("p99 ") && weeks.contains("&lt; 0 s"))
        }
    }

    /// The same page over PostgreSQL: its one pass, its hours, its change marks and its latest clicks.
    @Test(.enabled(if: PostgresCluster.isAvailable)) func everyFigureEqualsTheReportsOnPostgreSQL() async throws {
        let url = try PostgresCluster.freshDatabaseURL()
        let spool = try Scratch.directory("dashboard-spool").appendingPathComponent("spool.sqlite").path
        let service = try Self.service {
            $0.storage.driver = "postgres"
            $0.storage.postgresURL = url
            $0.storage.spoolPath = spool
        }
        _ = try await DemoData.run(config: service.config, seed: 3, now: Self.now)
        var quiet = Logger(label: "test-postgres")
        quiet.logLevel = .error
        let store = try makeStore(config: service.config, logger: quiet)
        try await service.test(store: store, now: { Self.now }) { client in
            let page = try await Self.page(client, "first_day=2025-11-17&last_day=2025-11-30")
            try await Self.expectPageEqualsReports(page, store: store, first: "2025-11-17", last: "2025-11-30", days: 14)
            _ = try await Retention.purge(store, before: Timestamp.parse("2025-11-20")!)
            let purged = try await Self.page(client, "first_day=2025-11-17&last_day=2025-11-30")
            try await Self.expectPageEqualsReports(purged, store: store, first: "2025-11-17", last: "2025-11-30", days: 14)
        }
    }

    @Test func newRowsAndPurgesChangeThePageAsTheyChangeTheReport() async throws {
        let service = try await Self.seeded()
        let query = "first_day=2025-11-17&last_day=2025-11-30"
        try await service.test(now: { Self.now }) { client in
            let before = Self.totals(try await Self.page(client, query))
            // A visit to a click of a day already counted, a conversion for another, a new click, an orphan.
            let clicks = try await service.store.clickReportPage(
                ReportQuery(from: nil, to: nil, windowMilliseconds: 7 * 86_400_000), after: nil, limit: 500
            ).rows
            let unvisited = try #require(clicks.first { $0.status == .clickedOnly })
            let visited = try #require(clicks.first { $0.status == .visited })
            try await service.store.recordVisits([
                Visit(
                    visitedAt: unvisited.clickedAt + 4_000, method: "GET", path: "/summer-sale", slug: "summer-sale",
                    clickID: unvisited.clickID, clickParameters: [:], clickIDProblem: nil, visitorID: nil,
                    userAgent: TestService.iPhone, referrer: nil, ip: nil, botReason: nil),
                Visit(
                    visitedAt: visited.clickedAt, method: "GET", path: "/summer-sale", slug: "summer-sale",
                    clickID: "never-reported", clickParameters: [:], clickIDProblem: nil, visitorID: nil,
                    userAgent: TestService.iPhone, referrer: nil, ip: nil, botReason: nil),
            ])
            _ = try await service.store.recordConversion(
                Conversion(
                    event: "purchase", clickID: visited.clickID, visitorID: nil, valueMicros: 1_000_000, currency: "USD",
                    orderID: "late-order", occurredAt: visited.clickedAt + 60_000, source: .api),
                receivedAt: Self.now, lookback: 7 * 86_400_000)
            _ = try await WebhookIngestor(store: service.store, logger: Logger(label: "test"), now: { Self.now })
                .ingest(body: Fixtures.batch(clicks: 3, prefix: "late", timestamp: Int(visited.clickedAt / 1000)), source: .http)
            let page = try await Self.page(client, query)
            let after = Self.totals(page)
            #expect(Int(after["clicks"]!)! == Int(before["clicks"]!)! + 3)
            #expect(Int(after["visited_clicks"]!)! == Int(before["visited_clicks"]!)! + 1)
            #expect(Int(after["orphan_visits"]!)! == Int(before["orphan_visits"]!)! + 1)
            #expect(after["conversion_value"]!.contains("1.00 USD"))
            try await Self.expectPageEqualsReports(page, store: service.store, first: "2025-11-17", last: "2025-11-30", days: 14)
            // A purge deletes the oldest days: every hour is counted again.
            _ = try await Retention.purge(service.store, before: Timestamp.parse("2025-11-20")!)
            let purged = try await Self.page(client, query)
            #expect(Int(Self.totals(purged)["clicks"]!)! < Int(after["clicks"]!)!)
            try await Self.expectPageEqualsReports(purged, store: service.store, first: "2025-11-17", last: "2025-11-30", days: 14)
        }
    }

    @Test func dataIsEscapedAndAnEmptyDatabaseSaysWhatToDo() async throws {
        let service = try Self.service()
        try await service.test(now: { Self.now }) { client in
            let empty = try await Self.page(client, "")
            #expect(empty.contains("No data yet") && empty.contains("clickattr demo"))
            let body = #"{"object":"whatsapp_business_account","entry":[{"id":"<b>waba</b>","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"2"},"user_actions":[{"action_type":"marketing_messages_link_click","timestamp":"1764500000","marketing_messages_link_click_data":{"click_component":"cta","product_id":"<script>alert(1)</script>","click_id":"\"><img src=x onerror=alert(2)>","tracking_token":"t"}}]},"field":"messages"}]}]}"#
            _ = try await WebhookIngestor(store: service.store, logger: Logger(label: "test"), now: { Self.now })
                .ingest(body: Array(body.utf8), source: .http)
            let page = try await Self.page(client, "")
            #expect(!page.contains("<script>alert") && !page.contains("<img src=x") && !page.contains("<b>waba"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && page.contains("&lt;img src=x"))
            try await Self.expectPageEqualsReports(page, store: service.store, first: "2025-11-24", last: "2025-11-30", days: 7)
            // Days with no clicks in a database that has some: the page says so.
            let quiet = try await Self.page(client, "first_day=2025-01-01&last_day=2025-01-07")
            #expect(quiet.contains("No clicks from 2025-01-01 to 2025-01-07"))
        }
    }

    @Test(arguments: [
        ("first_day=2026-13-01", "first_day '2026-13-01' is not a date such as 2026-11-28"),
        ("first_day=2025-11-30&last_day=2025-11-01", "first_day must not be after last_day"),
        ("first_day=2024-01-01&last_day=2025-11-30", "a page shows at most 400 days"),
        ("last_day=<script>", "last_day '<script>' is not a date"),
    ])
    func aBadRangeIs400WithOneSentence(query: String, message: String) async throws {
        let service = try Self.service()
        // The router's client sends the target as written ("<" is not percent-encoded).
        try await service.test(.router, now: { Self.now }) { client in
            let response = try await client.execute(uri: "/dashboard?\(query)", method: .get, headers: Self.bearer)
            #expect(response.status == .badRequest)
            #expect(Self.unescaped(String(buffer: response.body)).contains(message))
        }
    }

    @Test func aDatabaseThatDoesNotAnswerIs503WithinThePatienceAndThenRecovers() async throws {
        let service = try Self.service()
        let store = GatedStore(base: service.store)
        try await service.test(.router, store: store, now: { Self.now }) { client in
            store.hangsReads.store(true, ordering: .relaxed)
            // Two pages at once: the second waits for the first, and both give up in time.
            let started = ContinuousClock.now
            async let first = client.execute(uri: "/dashboard", method: .get, headers: Self.bearer)
            async let second = client.execute(uri: "/dashboard", method: .get, headers: Self.bearer)
            for response in try await [first, second] {
                #expect(response.status == .serviceUnavailable && response.headers[.retryAfter] == "5")
                #expect(String(buffer: response.body).contains("The database did not answer within 15 s"))
            }
            #expect(ContinuousClock.now - started < .seconds(25))
            store.hangsReads.store(false, ordering: .relaxed)
            _ = try await Self.page(client, "")
        }
    }

    // MARK: Login

    static func cookie(_ response: TestResponse) -> String? {
        response.headers[.setCookie]?.split(separator: ";").first.map(String.init)
    }

    static func login(
        _ client: any TestClientProtocol, key: String, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(
            uri: "/dashboard/login", method: .post, headers: fields,
            body: ByteBuffer(string: "key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"))
    }

    @Test func theLoginSetsASignedCookieThatOpensThePageAndTheDownloads() async throws {
        let service = try Self.service()
        let clock = Clock.milliseconds()
        let issued: String = try await service.test(now: { clock }) { client in
            let anonymous = try await client.execute(uri: "/dashboard", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/dashboard/login")
            let form = try await client.execute(uri: "/dashboard/login", method: .get)
            #expect(form.status == .ok && String(buffer: form.body).contains(#"type="password" name="key""#))
            #expect(form.headers[.contentSecurityPolicy]?.contains("form-action 'self'") == true)

            let wrong = try await Self.login(client, key: "not-a-key")
            #expect(wrong.status == .unauthorized && wrong.headers[.setCookie] == nil)
            #expect(Self.unescaped(String(buffer: wrong.body)).contains("That is not one of this service's API keys"))

            let right = try await Self.login(client, key: Self.key)
            #expect(right.status == .seeOther && right.headers[.location] == "/dashboard")
            let setCookie = try #require(right.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            #expect(setCookie.contains("Max-Age=43200") && !setCookie.contains("Secure"))
            let cookie = try #require(Self.cookie(right))
            #expect(!cookie.contains(Self.key))

            let page = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .ok && String(buffer: page.body).contains("Log out"))
            let csv = try await client.execute(uri: "/api/v1/reports/clicks?format=csv", method: .get, headers: [.cookie: cookie])
            #expect(csv.status == .ok && String(buffer: csv.body).hasPrefix("click_id,clicked_at"))
            // Signed: a changed byte is refused.
            var tampered = Array(cookie.utf8)
            tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let forged = try await client.execute(
                uri: "/dashboard", method: .get, headers: [.cookie: String(decoding: tampered, as: UTF8.self)])
            #expect(forged.status == .seeOther)
            let otherExpiry = cookie.replacingOccurrences(of: #"\.[0-9]+\."#, with: ".9999999999.", options: .regularExpression)
            #expect(try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: otherExpiry]).status == .seeOther)

            // Logging out is a POST that clears the cookie; a post from another site is refused.
            let foreign = try await client.execute(
                uri: "/dashboard/logout", method: .post, headers: [.cookie: cookie, .origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            let logout = try await client.execute(uri: "/dashboard/logout", method: .post, headers: [.cookie: cookie])
            #expect(logout.status == .seeOther && logout.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.execute(uri: "/dashboard/logout", method: .get).status != .seeOther)
            return cookie
        }
        // Another instance with the same keys accepts it; it expires; removing its key ends it.
        try await service.test(now: { clock + 3_600_000 }) { client in
            let response = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: issued])
            #expect(response.status == .ok)
        }
        try await service.test(now: { clock + 12 * 3_600_000 + 1_000 }) { client in
            let response = try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: issued])
            #expect(response.status == .seeOther)
        }
        var withoutKey = service.config
        withoutKey.api.keys = ["other-key"]
        let removed = try TestService { $0 = withoutKey }
        try await removed.test(store: service.store, now: { clock }) { client in
            #expect(try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: issued]).status == .seeOther)
            let csv = try await client.execute(uri: "/api/v1/reports/clicks", method: .get, headers: [.cookie: issued])
            #expect(csv.status == .unauthorized)
        }
    }

    @Test func theCookieIsSecureOverHTTPSBehindATrustedProxyOnly() async throws {
        let https: HTTPFields = [.init("X-Forwarded-Proto")!: "https"]
        try await Self.service { $0.http.trustForwardedFor = true }.test { client in
            let response = try await Self.login(client, key: Self.key, headers: https)
            #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
            let plain = try await Self.login(client, key: Self.key)
            #expect(plain.headers[.setCookie]?.contains("Secure") == false)
        }
        try await Self.service().test { client in
            let response = try await Self.login(client, key: Self.key, headers: https)
            #expect(response.headers[.setCookie]?.contains("Secure") == false)
        }
    }

    @Test func wrongKeysAreLimitedPerAddress() async throws {
        // One clock minute for all the attempts, however slowly they run.
        try await Self.service { $0.http.trustForwardedFor = true }.test(now: { Self.now }) { client in
            let attacker: HTTPFields = [.forwardedFor: "198.51.100.7"]
            for _ in 0..<5 {
                #expect(try await Self.login(client, key: "guess", headers: attacker).status == .unauthorized)
            }
            let limited = try await Self.login(client, key: Self.key, headers: attacker)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] == "60")
            #expect(limited.headers[.setCookie] == nil)
            let someoneElse = try await Self.login(client, key: Self.key, headers: [.forwardedFor: "203.0.113.9"])
            #expect(someoneElse.status == .seeOther)
        }
    }
}
