import ClickattrTestSupport
import Foundation
import Testing

/// `clickattr demo`, then `serve`, then the dashboard and the metrics, as a newcomer runs them.
@Suite struct DashboardCommandTests {
    @Test func demoThenServeThenTheDashboardAndMetricsOnTheirOwnPort() async throws {
        let cli = try CLI()
        let metricsPort = try FreePort.pick()
        let extra = "api:\n  keys: [cli-key]\nmetrics:\n  port: \(metricsPort)\n  bearer_token: scrape-token\n"
        let config = try cli.writeConfig(extra: extra)
        let demo = try cli.run(["demo", "--config", config, "--seed", "9"])
        #expect(demo.code == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains(" clicks in ") && demo.stdout.contains("next: clickattr serve"))
        let again = try cli.run(["demo", "--config", config])
        #expect(again.code == 2)
        #expect(again.stderr.hasPrefix("clickattr: the database already holds data"))
        #expect(again.stderr.split(separator: "\n").count == 1)

        // Both servers say they listen; the main one's port is chosen here so that the two are not confused.
        let port = try FreePort.pick()
        let (server, _) = try cli.startServer(["serve", "--config", try cli.writeConfig(port: port, extra: extra)])
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        let page = try CLI.curl(["-H", "Authorization: Bearer cli-key", "\(base)/dashboard"], headers: false)
        #expect(page.contains(#"data-name="clicks""#) && page.contains("<svg"))
        // The metrics are on their own port only, behind the token.
        #expect(try CLI.curl(["\(base)/metrics"]).hasPrefix("HTTP/1.1 404"))
        #expect(try CLI.curl(["http://127.0.0.1:\(metricsPort)/metrics"]).hasPrefix("HTTP/1.1 401"))
        let metrics = try CLI.curl(
            ["-H", "Authorization: Bearer scrape-token", "http://127.0.0.1:\(metricsPort)/metrics"], headers: false)
        #expect(metrics.contains(#"clickattr_http_requests_total{group="dashboard",status="200"} 1"#))
    }

    @Test func aMetricsPortEqualToTheHTTPPortIsExitCode2() throws {
        let cli = try CLI()
        let run = try cli.run(["serve", "--config", try cli.writeConfig(port: 18_555, extra: "metrics:\n  port: 18555\n")])
        #expect(run.code == 2)
        #expect(run.stderr.contains("metrics.port"))
    }
}
