import Foundation
import Testing

@Suite struct ReportCommandTests {
    @Test func theCLIAndTheAPIGiveTheSameBytesInEveryFormat() async throws {
        let cli = try CLI()
        let extra = "api:\n  keys: [cli-key]\n"
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/Fixtures")
        let bodies = try ["click.json", "landing-page-view.json"].map {
            try String(contentsOf: fixtures.appendingPathComponent($0), encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        let config = try cli.writeConfig(extra: extra)
        #expect(try cli.run(["import", "webhooks", try cli.write("w.ndjson", bodies.joined(separator: "\n")), "--config", config]).code == 0)

        let (server, port) = try cli.startServer(extra: extra)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        _ = try CLI.curl(["-A", "Mozilla/5.0 (iPhone) Safari/604.1", "\(base)/summer-sale?click_id=ARAkLkA8rmlF8d0x"])
        let created = try CLI.curl([
            "-H", "Authorization: Bearer cli-key", "-H", "Content-Type: application/json", "--data",
            #"{"click_id":"ARAkLkA8rmlF8d0x","event":"purchase","value":"24.99","currency":"EUR","order_id":"o1","occurred_at":"2025-11-28T12:30:00Z"}"#,
            "\(base)/api/v1/conversions",
        ])
        #expect(created.hasPrefix("HTTP/1.1 201"))
        try CLI.waitUntilShipped(port: port)

        for format in ["csv", "json", "ndjson"] {
            let file = cli.path("clicks.\(format)")
            let run = try cli.run(["report", "clicks", "--config", config, "--format", format, "--output", file, "--from", "2025-11-28"])
            #expect(run.code == 0, "\(run.stderr)")
            let fromCLI = try String(contentsOfFile: file, encoding: .utf8)
            let fromAPI = try CLI.curl(
                ["-H", "Authorization: Bearer cli-key", "\(base)/api/v1/reports/clicks?format=\(format)&from=2025-11-28"],
                headers: false)
            #expect(fromCLI == fromAPI)
            #expect(fromCLI.contains("ARAkLkA8rmlF8d0x"))
        }
        let csv = try String(contentsOfFile: cli.path("clicks.csv"), encoding: .utf8)
        #expect(csv.contains("ARAkLkA8rmlF8d0x,2025-11-28T12:00:00.000Z,cta,sku_4711,tt_summer_01,102290129340398,106540352242922,"))
        // The fixture's click is from 2025; today's visit is past the 7-day window, the conversion is not.
        #expect(csv.contains(",1,0,"))
        #expect(csv.hasSuffix(",true,1,24.99,outside_window\r\n"))

        for format in ["csv", "json"] {
            let run = try cli.run(["report", "summary", "--config", config, "--format", format, "--group-by", "day,product_id"])
            #expect(run.code == 0, "\(run.stderr)")
            let fromAPI = try CLI.curl(
                ["-H", "Authorization: Bearer cli-key", "\(base)/api/v1/reports/summary?format=\(format)&group_by=day,product_id"],
                headers: false)
            #expect(run.stdout == fromAPI)
        }
        let summary = try cli.run(["report", "summary", "--config", config])
        #expect(summary.stdout.hasPrefix("clicks,visited_clicks,visit_rate,orphan_visits,bot_visits,p50_click_to_visit_ms"))
        #expect(summary.stdout.hasSuffix("\r\n1,0,0,0,0,,,,1,1,24.99\r\n"))

        // The range filters on the click time.
        let empty = try cli.run(["report", "clicks", "--config", config, "--from", "2025-11-29"])
        #expect(empty.stdout == "click_id,clicked_at,click_component,product_id,tracking_token,waba_id,phone_number_id,first_visit_at,visits,bot_visits,click_to_visit_ms,landing_page_viewed,conversions,conversion_value,status\r\n")

        #expect(try CLI.curl(["\(base)/api/v1/reports/clicks"]).hasPrefix("HTTP/1.1 401"))
        #expect(try CLI.curl(["-H", "Authorization: Bearer cli-key", "\(base)/api/v1/reports/clicks?from=yesterday"]).hasPrefix("HTTP/1.1 400"))
    }

    @Test(arguments: [
        ["clicks", "--from", "yesterday"], ["clicks", "--format", "xml"], ["clicks", "--from", "2026-11-28", "--to", "2026-11-27"],
        ["summary", "--group-by", "week"], ["clicks", "--output", "/nonexistent/dir/x.csv"],
    ])
    func aBadReportOptionIsExitCode2(arguments: [String]) throws {
        let cli = try CLI()
        let result = try cli.run(["report"] + arguments + ["--config", try cli.writeConfig()])
        #expect(result.code == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}
