import AttributionCore
import AttributionServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite struct OrphanVisitLimitTests {
    @Test func aScannerGetsOnlyTheConfiguredOrphanVisitsStoredAMinute() async throws {
        let service = try TestService {
            $0.http.orphanVisitsPerMinute = 3
            $0.http.trustForwardedFor = true
        }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        // A fixed clock: all of it happens within one minute.
        let app = try await buildApplication(config: service.config, logger: quiet, store: service.store) {
            1_764_331_200_000
        }
        try await app.test(.live) { client in
            for index in 0..<10 {
                let response = try await client.execute(
                    uri: "/wp-admin/\(index).php", method: .get, headers: [.forwardedFor: "198.51.100.7"])
                #expect(response.status == .notFound)
            }
            // Known routes are never limited.
            for index in 0..<5 {
                #expect(try await client.execute(uri: "/summer-sale?click_id=c\(index)", method: .get).status == .found)
            }
            // Another address has its own allowance.
            let other = try await client.execute(
                uri: "/wp-login.php", method: .get, headers: [.forwardedFor: "203.0.113.9"])
            #expect(other.status == .notFound)
        }
        let visits = try await service.store.recentVisits(limit: 100)  // the app has stopped: its spool is shipped
        #expect(visits.filter { $0.slug == nil }.count == 4)
        #expect(visits.filter { $0.slug == "summer-sale" }.count == 5)
    }
}

@Suite struct ProtectiveHeaderTests {
    @Test func everyPageClickattrWritesCarriesThem() async throws {
        try await TestService { $0.api.keys = ["k"] }.test { client in
            for (uri, policy) in [
                ("/catalogue?click_id=x", "style-src 'unsafe-inline'"), ("/healthz", "default-src 'none'"),
                ("/nothing", "default-src 'none'"), ("/api/v1/reports/summary", "default-src 'none'"),
            ] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer k"])
                #expect(response.headers[.contentSecurityPolicy]?.contains(policy) == true, "\(uri)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(uri)")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(uri)")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "strict-origin-when-cross-origin", "\(uri)")
            }
        }
    }

    @Test func theLandingPolicyIsTheOperators() async throws {
        let policy = "default-src 'none'; img-src https://pixel.example.com; frame-ancestors 'none'"
        try await TestService { $0.http.landingContentSecurityPolicy = policy }.test { client in
            let page = try await client.execute(uri: "/catalogue", method: .get)
            #expect(page.headers[.contentSecurityPolicy] == policy)
        }
    }
}
