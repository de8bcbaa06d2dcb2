import ClickattrTestSupport
import AttributionStore
import Foundation
import Testing

@Suite struct CommandLineTests {
    @Test func helpExitsZero() throws {
        let result = try CLI().run(["--help"])
        #expect(result.code == 0)
        #expect(result.stdout.contains("serve"))
        #expect(result.stdout.contains("migrate"))
    }

    @Test(arguments: [["serve", "--bogus"], ["frobnicate"], ["import", "webhooks"], ["migrate", "--config"]])
    func aBadFlagIsExitCode2WithOneLine(arguments: [String]) throws {
        let result = try CLI().run(arguments)
        #expect(result.code == 2)
        #expect(!result.stderr.isEmpty)
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func anUnknownConfigKeyStopsStartUpWithExitCode2() throws {
        let cli = try CLI()
        let config = try cli.writeConfig(extra: "attribution:\n  window_dayz: 3\n")
        for command in [["serve"], ["migrate"]] {
            let result = try cli.run(command + ["--config", config])
            #expect(result.code == 2)
            #expect(result.stderr.contains("unknown config key 'attribution.window_dayz'"))
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    @Test func aMissingDefaultConfigFileIsExitCode2() throws {
        let result = try CLI().run(["serve"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("config/clickattr.yaml"))
    }

    @Test func aBadEnvironmentOverrideIsExitCode2() throws {
        let cli = try CLI()
        let result = try cli.run(["migrate", "--config", try cli.writeConfig()], environment: ["CLICKATTR_HTTP_PORT": "eighty"])
        #expect(result.code == 2)
        #expect(result.stderr.contains("CLICKATTR_HTTP_PORT"))
    }

    /// Files a user names are refused in the system's words, in one line, with exit code 2.
    @Test func unreadableAndUnwritableFilesSayWhy() throws {
        let cli = try CLI()
        let config = try cli.writeConfig()
        let cases: [([String], String)] = [
            (["import", "webhooks", cli.path("missing.ndjson")], "cannot read '\(cli.path("missing.ndjson"))': no such file or directory"),
            (["import", "webhooks", cli.directory.path], "cannot read '\(cli.directory.path)': is a directory"),
            (["report", "clicks", "--output", cli.path("no/such/folder.csv")], "cannot write '\(cli.path("no/such/folder.csv"))': no such file or directory"),
            (["report", "summary", "--output", cli.directory.path], "cannot write '\(cli.directory.path)': is a directory"),
        ]
        for (arguments, message) in cases {
            let result = try cli.run(arguments + ["--config", config])
            #expect(result.code == 2, "\(arguments)")
            #expect(result.stderr == "clickattr: \(message)\n", "\(arguments)")
        }
    }

    @Test func aDatabasePathThatCannotBeOpenedIsAConfigError() throws {
        let cli = try CLI()
        let notADatabase = try cli.write("notes.txt", "not SQLite, just text that is long enough to have a header\n")
        let cases: [(String, String)] = [
            (notADatabase + "/clickattr.sqlite", "not a directory"),
            (notADatabase, "file is not a database"),
        ]
        for (path, reason) in cases {
            let result = try cli.run(
                ["migrate", "--config", try cli.writeConfig()], environment: ["CLICKATTR_STORAGE_SQLITE_PATH": path])
            #expect(result.code == 2)
            #expect(result.stderr == "clickattr: config key 'storage.sqlite.path' '\(path)' cannot be opened: \(reason)\n")
        }
    }

    @Test func migrateCreatesTheDatabase() throws {
        let cli = try CLI()
        let result = try cli.run(["migrate", "--config", try cli.writeConfig()])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: cli.path("db/clickattr.sqlite")))
    }

    @Test func importReplaysBodiesIdempotentlyAndNamesBadLines() async throws {
        let cli = try CLI()
        let config = try cli.writeConfig()
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/Fixtures")
        let bodies = try ["click.json", "landing-page-view.json", "statuses.json"].map {
            try String(contentsOf: fixtures.appendingPathComponent($0), encoding: .utf8)
                .trimmingCharacters(in: .newlines)
        }
        let good = try cli.write("good.ndjson", bodies.joined(separator: "\n") + "\n")
        let first = try cli.run(["import", "webhooks", good, "--config", config])
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.contains("3 new deliveries, 2 new action(s)"))

        let second = try cli.run(["import", "webhooks", good, "--config", config])
        #expect(second.code == 0)
        #expect(second.stdout.contains("0 new deliveries, 0 new action(s), 2 already stored"))

        let mixed = try cli.write("mixed.ndjson", bodies[0] + "\n{broken\n")
        let third = try cli.run(["import", "webhooks", mixed, "--config", config])
        #expect(third.code == 2)
        #expect(third.stdout.contains("line 2: the body is not valid JSON"))

        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        #expect(try await store.counts() == StoreCounts(deliveries: 3, userActions: 2, visits: 0))

        let missing = try cli.run(["import", "webhooks", cli.path("nope.ndjson"), "--config", config])
        #expect(missing.code == 2)
        #expect(missing.stderr.contains("nope.ndjson"))
    }

    @Test func serveAnswersOverRealHTTPAndStoresTheVisit() async throws {
        let cli = try CLI()
        let (process, port) = try cli.startServer()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        #expect(try CLI.curl(["http://127.0.0.1:\(port)/readyz"]).hasPrefix("HTTP/1.1 200"))
        let answer = try CLI.curl(["-A", "Mozilla/5.0 (iPhone) Safari/604.1", "http://127.0.0.1:\(port)/summer-sale?click_id=live-1"])
        #expect(answer.hasPrefix("HTTP/1.1 302"))
        #expect(answer.contains("Location: https://shop.example.com/summer?click_id=live-1"))

        try CLI.waitUntilShipped(port: port)
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        let visit = try #require(try await store.recentVisits(limit: 1).first)
        #expect(visit.clickID == "live-1")
        #expect(visit.ip == "127.0.0.0")
        #expect(visit.botReason == nil)
    }

    @Test func aPortInUseIsExitCode2WithTheAddressAndTheKey() throws {
        let cli = try CLI()
        let (first, port) = try cli.startServer()
        defer {
            first.terminate()
            first.waitUntilExit()
        }
        // A second instance of its own (its own spool), on the same port.
        let second = try cli.run(["serve", "--config", try cli.writeConfig(port: port)], environment: ["CLICKATTR_STORAGE_SPOOL_PATH": cli.path("second-spool.sqlite")])
        #expect(second.code == 2)
        #expect(second.stderr.contains("clickattr: cannot listen on 127.0.0.1:\(port): address already in use; "))
        #expect(second.stderr.contains("CLICKATTR_HTTP_PORT"))
    }

    @Test func sigtermDrainsTheQueueSoEveryAnsweredVisitIsStored() async throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()

        // 3000 taps from 32 connections; the server is told to stop while they are in flight.
        let load = ChildProcess()
        load.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        load.arguments = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}\\n", "--parallel", "--parallel-max", "32",
            "-A", "Mozilla/5.0 (iPhone) Safari/604.1", "http://127.0.0.1:\(port)/summer-sale?click_id=tap-[1-3000]",
        ]
        let output = Pipe()
        load.standardOutput = output
        try load.run()
        try await Task.sleep(for: .milliseconds(300))
        server.terminate()
        let codes = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        load.waitUntilExit()
        server.waitUntilExit()

        let redirects = codes.split(separator: "\n").filter { $0 == "302" }.count
        #expect(server.terminationStatus == 0)
        #expect(redirects > 0)
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        #expect(try await store.counts().visits == redirects)
    }
}
