import AttributionCore
import AttributionServer
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct LandingRouteTests {
    @Test func redirectsWithTheQueryAndRecordsTheVisitFirst() async throws {
        let service = try TestService()
        try await service.test { client in
            try await client.execute(
                uri: "/summer-sale?click_id=ARAkLkA8rmlF8d0x&fbclid=IwAR0", method: .get,
                headers: [.userAgent: TestService.iPhone, .referer: "https://l.wl.co/"]
            ) { response in
                #expect(response.status == .found)
                #expect(
                    response.headers[.location]
                        == "https://shop.example.com/summer?utm_source=whatsapp&click_id=ARAkLkA8rmlF8d0x&fbclid=IwAR0")
                #expect(response.headers[.setCookie]?.hasPrefix("ca_vid=") == true)
                #expect(response.headers[.cacheControl] == "no-store")
                // The answer is only sent once the visit is stored.
                let visit = try #require(try await service.visits(1).first)
                #expect(visit.clickID == "ARAkLkA8rmlF8d0x")
                #expect(visit.clickParameters == ["click_id": "ARAkLkA8rmlF8d0x", "fbclid": "IwAR0"])
                #expect(visit.slug == "summer-sale")
                #expect(visit.method == "GET")
                #expect(visit.userAgent == TestService.iPhone)
                #expect(visit.referrer == "https://l.wl.co/")
                #expect(visit.botReason == nil)
                #expect(response.headers[.setCookie]?.contains(visit.visitorID ?? "missing") == true)
            }
        }
    }

    @Test func withoutPassthroughTheDestinationIsUnchanged() async throws {
        try await TestService().test { client in
            try await client.execute(uri: "/plain?click_id=abc&x=1", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location] == "https://shop.example.com/plain")
            }
        }
    }

    @Test func landingModeRendersTheTemplateWithTheDestinationEscaped() async throws {
        let service = try TestService()
        try await service.test { client in
            try await client.execute(
                uri: "/catalogue?click_id=abc&q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E", method: .get,
                headers: [.userAgent: TestService.iPhone]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let html = String(buffer: response.body)
                #expect(html.contains(#"href="https://shop.example.com/catalogue?click_id=abc&amp;q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E""#))
                #expect(!html.contains("<script>"))
            }
        }
        #expect(try await service.visits(1).first?.slug == "catalogue")
    }

    @Test func headAnswersLikeGetWithoutABodyAndCountsAsAPreview() async throws {
        let service = try TestService()
        try await service.test { client in
            let get = try await client.execute(uri: "/catalogue?click_id=h", method: .get, headers: [.userAgent: TestService.iPhone])
            try await client.execute(uri: "/catalogue?click_id=h", method: .head, headers: [.userAgent: TestService.iPhone]) {
                response in
                #expect(response.status == get.status)
                #expect(response.headers[.contentType] == get.headers[.contentType])
                #expect(response.headers[.contentLength] == String(get.body.readableBytes))
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/summer-sale?click_id=h", method: .head) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("https://shop.example.com/summer") == true)
            }
        }
        let visits = try await service.visits(3)
        #expect(visits.map(\.botReason) == ["head_request", "head_request", nil])
    }

    @Test func anUnknownSlugIs404AndAnOrphanVisit() async throws {
        let service = try TestService()
        try await service.test { client in
            for uri in ["/no-such-campaign?click_id=lost", "/a/b/c", "/"] {
                try await client.execute(uri: uri, method: .get, headers: [.userAgent: TestService.iPhone]) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.location] == nil)
                }
            }
        }
        let visits = try await service.visits(3)
        #expect(visits.map(\.path) == ["/", "/a/b/c", "/no-such-campaign"])
        #expect(visits.allSatisfy { $0.slug == nil })
        #expect(visits.last?.clickID == "lost")
    }

    @Test(arguments: [
        String(repeating: "x", count: 513), "%01abc", "abc%0D%0ASet-Cookie:%20evil=1", "",
    ])
    func aBadClickIDNeverBlocksTheVisitor(clickID: String) async throws {
        let service = try TestService()
        try await service.test { client in
            try await client.execute(uri: "/summer-sale?click_id=\(clickID)", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix("https://shop.example.com/summer?utm_source=whatsapp") == true)
                #expect(response.headers[.setCookie]?.contains("evil") == false)
            }
        }
        let visit = try #require(try await service.visits(1).first)
        #expect(visit.clickID == nil)
        #expect(visit.clickIDProblem != nil)
    }

    @Test func noParameterOrPathCanRedirectElsewhere() async throws {
        let service = try TestService()
        try await service.test { client in
            let attempts = [
                "/summer-sale?url=https://evil.example&next=//evil.example&redirect=%2F%2Fevil.example",
                "/summer-sale?@evil.example", "/summer-sale/../evil", "//evil.example", "/%2F%2Fevil.example",
                "/summer-sale%2F%2Fevil.example", "/https://evil.example",
            ]
            for uri in attempts {
                try await client.execute(uri: uri, method: .get) { response in
                    if let location = response.headers[.location] {
                        #expect(location.hasPrefix("https://shop.example.com/summer?"), "\(uri) -> \(location)")
                    } else {
                        #expect(response.status == .notFound, "\(uri)")
                    }
                }
            }
        }
    }

    @Test func nothingFromTheRequestReachesAHeaderUnescaped() async throws {
        try await TestService().test { client in
            try await client.execute(
                uri: "/summer-sale?click_id=a%0D%0ALocation:%20https://evil.example&x=%E2%80%A8&y=caf%C3%A9", method: .get,
                headers: [.cookie: "ca_vid=bad%0D%0Avalue"]
            ) { response in
                for field in response.headers {
                    #expect(field.value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }, "\(field)")
                }
                let locations = response.headers[values: .location]
                #expect(locations.count == 1)
                #expect(locations.first?.hasPrefix("https://shop.example.com/summer?") == true)
            }
        }
    }

    @Test func theVisitorCookieIsReusedNotReissued() async throws {
        let service = try TestService()
        try await service.test { client in
            try await client.execute(
                uri: "/summer-sale?click_id=c", method: .get,
                headers: [.cookie: "other=1; ca_vid=0123456789abcdef0123456789abcdef"]
            ) { response in
                #expect(response.headers[.setCookie] == nil)
            }
        }
        #expect(try await service.visits(1).first?.visitorID == "0123456789abcdef0123456789abcdef")
    }

    /// New visitor ids start with their issue time, so each lands at the end of the visitor index.
    @Test func newVisitorIDsAreIssuedInTimeOrder() async throws {
        let service = try TestService()
        let ids = try await service.test { client in
            var ids: [String] = []
            for _ in 0..<5 {
                try await client.execute(uri: "/summer-sale?click_id=c", method: .get) { response in
                    let cookie = try #require(response.headers[.setCookie])
                    ids.append(String(cookie.dropFirst("ca_vid=".count).prefix { $0 != ";" }))
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            return ids
        }
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        let issuedAt = try #require(Int64(ids[0].prefix(12), radix: 16))
        #expect(abs(issuedAt - Int64(Date().timeIntervalSince1970 * 1000)) < 60_000)
    }

    @Test func crawlersAndPreviewsAreRecordedButFlagged() async throws {
        let service = try TestService()
        let agents = [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "WhatsApp/2.23.20.0 A",
            "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36",
        ]
        try await service.test { client in
            for agent in agents {
                try await client.execute(uri: "/summer-sale?click_id=c", method: .get, headers: [.userAgent: agent]) {
                    response in
                    #expect(response.status == .found)
                }
            }
            try await client.execute(uri: "/summer-sale?click_id=c", method: .get) { response in
                #expect(response.status == .found)
            }
        }
        let visits = try await service.visits(4)
        #expect(visits.map(\.botReason) == ["empty_user_agent", "headless_browser", "whatsapp_preview", "meta_crawler"])
        #expect(visits.allSatisfy { $0.clickID == "c" })
    }

    @Test func theVisitorsAddressIsStoredTruncated() async throws {
        let service = try TestService {
            $0.http.trustForwardedFor = true
            $0.privacy.ipv4Prefix = 24
        }
        try await service.test { client in
            for address in ["203.0.113.77, 10.0.0.1", "2001:db8:85a3:8d3:1319:8a2e:370:7348"] {
                try await client.execute(
                    uri: "/summer-sale?click_id=c", method: .get, headers: [.forwardedFor: address])
            }
        }
        let visits = try await service.visits(2)
        #expect(visits.map(\.ip) == ["2001:db8:85a3::", "203.0.113.0"])
    }

    @Test func forwardedForIsIgnoredUnlessTrusted() async throws {
        let service = try TestService()
        try await service.test { client in
            try await client.execute(
                uri: "/summer-sale?click_id=c", method: .get, headers: [.forwardedFor: "203.0.113.77"])
        }
        #expect(try await service.visits(1).first?.ip != "203.0.113.0")
    }
}

@Suite struct HealthRouteTests {
    @Test func livenessAndReadiness() async throws {
        try await TestService().test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
