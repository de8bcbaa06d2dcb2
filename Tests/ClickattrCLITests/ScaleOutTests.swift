import AttributionStore
import ClickattrTestSupport
import Crypto
import Foundation
import Logging
import Testing

/// Several instances over one PostgreSQL, and a database outage under landing load: real processes, real
/// PostgreSQL (the test process's throwaway clusters), real HTTP.
@Suite(.enabled(if: PostgresCluster.isAvailable)) struct ScaleOutTests {
    static let apiKey = "scale-out-key-0123456789"

    /// An instance in a scratch folder of its own (its own spool) over the PostgreSQL at `url`.
    static func instance(url: String) throws -> (cli: CLI, config: String) {
        let cli = try CLI()
        let config = try cli.writeConfig(storage: cli.postgresStorage(url: url), extra: "api:\n  keys: [\(apiKey)]")
        return (cli, config)
    }

    static func store(_ url: String) throws -> PostgresStore {
        var logger = Logger(label: "scale-out-test")
        logger.logLevel = .error
        return try PostgresStore(url: url, maxConnections: 2, logger: logger)
    }

    /// Landing taps through one curl process per batch; returns the status of each.
    static func taps(port: Int, clickIDs: [String]) throws -> [String] {
        var arguments = ["-w", "%{http_code}\n"]
        for id in clickIDs {
            arguments += ["-o", "/dev/null", "http://127.0.0.1:\(port)/summer-sale?click_id=\(id)"]
        }
        return try CLI.curl(arguments, headers: false).split(separator: "\n").map(String.init)
    }

    static func signedPost(port: Int, body: Data) throws -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data("cli-secret".utf8)))
        let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString).json")
        try body.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try CLI.curl([
            "-X", "POST", "http://127.0.0.1:\(port)/webhooks/whatsapp", "-H", "Content-Type: application/json",
            "-H", "X-Hub-Signature-256: \(signature)", "--data-binary", "@\(file.path)",
        ])
    }

    static func conversion(port: Int) throws -> String {
        try CLI.curl([
            "-X", "POST", "http://127.0.0.1:\(port)/api/v1/conversions", "-H", "Authorization: Bearer \(apiKey)",
            "-H", "Content-Type: application/json",
            "-d", #"{"click_id":"ARAkLkA8rmlF8d0x","event":"purchase","value":"24.99","currency":"EUR","order_id":"S-1"}"#,
        ])
    }

    /// Runs the closures at the same time, each on a thread of its own, and returns their results in order.
    static func atOnce<T>(_ works: [() throws -> T]) throws -> [T] {
        let slots = Slots(works)
        slots.results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: slots.works.count) { index in
                buffer[index] = Result { try slots.works[index]() }
            }
        }
        return try slots.results.map { try $0!.get() }
    }

    /// Waits (up to 10 s) until the shared database holds `visits` visits.
    /// Waits up to 60 s: after an outage PostgresNIO's pool reconnects with its own backoff, and the shipper
    /// then works through what the spool holds.
    static func waitForVisits(_ store: PostgresStore, _ visits: Int) async throws -> Int {
        var seen = 0
        for _ in 0..<600 {
            seen = try await store.counts().visits
            if seen >= visits { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return seen
    }

    @Test func twoInstancesOverOneDatabaseStoreEveryVisitDeliveryAndConversionOnce() async throws {
        let url = try PostgresCluster.freshDatabaseURL()
        let (a, b) = (try Self.instance(url: url), try Self.instance(url: url))
        // Both start at once on the empty database: one migrates, the other waits for the advisory lock.
        let started = try Self.atOnce([
            { try a.cli.startServer(["serve", "--config", a.config]) }, { try b.cli.startServer(["serve", "--config", b.config]) },
        ])
        defer {
            for (process, _) in started {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let ports = started.map(\.port)

        let statuses = try Self.atOnce(
            (0..<4).map { batch in
                { try Self.taps(port: ports[batch % 2], clickIDs: (0..<50).map { "tap-\(batch)-\($0)" }) }
            })
        let answered = statuses.joined().filter { $0 == "302" }.count
        #expect(answered == 200)

        let body = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("Tests/Fixtures/click.json"))
        let deliveries = try Self.atOnce(ports.map { port in { try Self.signedPost(port: port, body: body) } })
        #expect(deliveries.allSatisfy { $0.hasPrefix("HTTP/1.1 200") })
        let conversions = try Self.atOnce(ports.map { port in { try Self.conversion(port: port) } })
        #expect(Set(conversions.map { String($0.prefix(12)) }) == ["HTTP/1.1 201", "HTTP/1.1 200"])

        let store = try Self.store(url)
        #expect(try await Self.waitForVisits(store, answered) == answered)
        let counts = try await store.counts()
        #expect(counts == StoreCounts(deliveries: 1, userActions: 1, visits: 200, conversions: 1))
        #expect(try await store.userActions(clickID: "ARAkLkA8rmlF8d0x").count == 1)
    }

    /// The database stops for 15 seconds under landing load and comes back: every tap is answered 302 throughout,
    /// and every answered visit is in the database afterwards, once.
    @Test func aDatabaseOutageUnderLoadLosesAndDoublesNoVisit() async throws {
        let cluster = try PostgresCluster.dedicated()
        let url = try cluster.freshDatabaseURL()
        let (cli, config) = try Self.instance(url: url)
        let (server, port) = try cli.startServer(["serve", "--config", config])
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let statuses = Collected<String>()
        let loadDone = DispatchSemaphore(value: 0)
        let stop = Collected<Bool>()
        Thread.detachNewThread {
            var batch = 0
            while stop.all.isEmpty {
                let answers = (try? Self.taps(port: port, clickIDs: (0..<20).map { "outage-\(batch)-\($0)" })) ?? []
                answers.forEach(statuses.append)
                batch += 1
            }
            loadDone.signal()
        }
        // However this test ends, the load stops with it (and its last answers are in before they are counted).
        let finished = Collected<Bool>()
        func finishLoad() {
            guard finished.all.isEmpty else { return }
            finished.append(true)
            stop.append(true)
            loadDone.wait()
        }
        defer { finishLoad() }
        try await Task.sleep(for: .seconds(2))
        try cluster.stop()
        let stoppedAt = statuses.all.count
        let outageStarted = Date()
        // Meanwhile a delivery and a conversion are refused for now, so that their senders retry.
        let body = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("Tests/Fixtures/click.json"))
        let refused = try Self.atOnce([{ try Self.signedPost(port: port, body: body) }, { try Self.conversion(port: port) }])
        try await Task.sleep(for: .seconds(max(0, 15 - Date().timeIntervalSince(outageStarted))))
        let duringOutage = statuses.all.count - stoppedAt
        let ready = try CLI.curl(["http://127.0.0.1:\(port)/readyz"])
        try cluster.start()
        try await Task.sleep(for: .seconds(3))
        finishLoad()
        let all = statuses.all
        print("database outage: \(all.count) taps answered, \(duringOutage) of them in the 15 s without the database")
        #expect(duringOutage > 100, "taps kept being answered while the database was away")
        #expect(all.allSatisfy { $0 == "302" }, "every tap answered 302: \(Set(all))")
        #expect(ready.hasPrefix("HTTP/1.1 200") && ready.contains(#""database":"unreachable""#))
        for answer in refused {
            #expect(answer.hasPrefix("HTTP/1.1 503") && answer.lowercased().contains("retry-after: 5"), "\(answer)")
        }
        let store = try Self.store(url)
        #expect(try await Self.waitForVisits(store, all.count) == all.count)
        let counts = try await store.counts()
        #expect(counts.visits == all.count)
        #expect(counts.deliveries == 0 && counts.conversions == 0, "nothing half-stored")
    }

    /// Visits spooled while the database is away survive `kill -9`: the next start ships them, once.
    @Test func aKilledInstanceShipsWhatItsSpoolHeldWhenItStartsAgain() async throws {
        let cluster = try PostgresCluster.dedicated()
        let url = try cluster.freshDatabaseURL()
        let (cli, config) = try Self.instance(url: url)
        let first = try cli.startServer(["serve", "--config", config])
        try cluster.stop()
        let statuses = try Self.taps(port: first.port, clickIDs: (0..<100).map { "spooled-\($0)" })
        #expect(statuses.count == 100 && statuses.allSatisfy { $0 == "302" })
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        try cluster.start()
        let second = try cli.startServer(["serve", "--config", config])
        defer {
            second.process.terminate()
            second.process.waitUntilExit()
        }
        let store = try Self.store(url)
        #expect(try await Self.waitForVisits(store, 100) == 100)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await store.counts().visits == 100)
        #expect(try CLI.curl(["http://127.0.0.1:\(second.port)/readyz"]).contains(#""spooled_visits":0"#))
    }

    /// A business moving from one box to several: its SQLite database copied into PostgreSQL gives the same
    /// reports byte for byte, and copying again adds nothing.
    @Test func importSQLiteCopiesEverythingOnceAndTheReportsMatch() async throws {
        let old = try CLI()
        let sqliteConfig = try old.writeConfig(extra: "api:\n  keys: [\(Self.apiKey)]")
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/Fixtures")
        let bodies = try ["click.json", "landing-page-view.json", "statuses.json"].map {
            try String(contentsOf: fixtures.appendingPathComponent($0), encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        #expect(try old.run(["import", "webhooks", try old.write("bodies.ndjson", bodies.joined(separator: "\n")), "--config", sqliteConfig]).code == 0)
        let (server, port) = try old.startServer(["serve", "--config", sqliteConfig])
        _ = try Self.taps(port: port, clickIDs: ["ARAkLkA8rmlF8d0x", "ARAkLkA8rmlF8d0x", "orphan-1"])
        _ = try Self.conversion(port: port)
        _ = try CLI.curl([
            "-X", "POST", "http://127.0.0.1:\(port)/api/v1/conversions", "-H", "Authorization: Bearer \(Self.apiKey)",
            "-d", #"{"click_id":"ARAkLkA8rmlF8d0x","event":"signup"}"#,
        ])
        server.terminate()
        server.waitUntilExit()

        let url = try PostgresCluster.freshDatabaseURL()
        let (new, postgresConfig) = try Self.instance(url: url)
        let database = old.path("db/clickattr.sqlite")
        let first = try new.run(["import", "sqlite", database, "--config", postgresConfig])
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.contains("webhook deliveries: 3 read, 3 new"))
        #expect(first.stdout.contains("visits: 3 read, 3 new"))
        #expect(first.stdout.contains("conversions: 2 read, 2 new"))
        let again = try new.run(["import", "sqlite", database, "--config", postgresConfig])
        #expect(again.code == 0)
        #expect(again.stdout.contains("user actions: 2 read, 0 new") && again.stdout.contains("conversions: 2 read, 0 new"))
        #expect(again.stdout.contains("visits: 3 read, 0 new"))

        for report in [["clicks", "--format", "csv"], ["clicks", "--format", "json"], ["summary", "--group-by", "day,slug"]] {
            let before = try old.run(["report"] + report + ["--config", sqliteConfig])
            let after = try new.run(["report"] + report + ["--config", postgresConfig])
            #expect(before.code == 0 && after.code == 0)
            #expect(after.stdout == before.stdout, "report \(report)")
            #expect(before.stdout.contains("ARAkLkA8rmlF8d0x") || report[0] == "summary")
        }

        let notSQLite = try new.run(["import", "sqlite", postgresConfig, "--config", postgresConfig])
        #expect(notSQLite.code == 2)
        #expect(notSQLite.stderr.contains("cannot import"))
        let toSQLite = try old.run(["import", "sqlite", database, "--config", sqliteConfig])
        #expect(toSQLite.code == 2)
        #expect(toSQLite.stderr.contains("set storage.driver: postgres"))
    }

    /// A database that does not exist, or a server that is not there, stops start-up with one sentence, exit 2,
    /// at once (not after the pool's minute of retries).
    @Test func aDatabaseThatCannotBeUsedStopsStartUpWithOneLine() throws {
        let url = try PostgresCluster.freshDatabaseURL()
        let missing = url.replacingOccurrences(of: #"/test_\d+\?"#, with: "/no_such_database?", options: .regularExpression)
        let (cli, config) = try Self.instance(url: missing)
        let started = Date()
        let result = try cli.run(["serve", "--config", config])
        #expect(result.code == 2)
        #expect(result.stderr.contains(#"database "no_such_database" does not exist"#), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("clickattr:") }.count == 1)

        let (other, unreachable) = try Self.instance(url: "postgres://clickattr@127.0.0.1:1/db?sslmode=disable")
        let refused = try other.run(["migrate", "--config", unreachable])
        #expect(refused.code == 2)
        #expect(refused.stderr.contains("PostgreSQL is unreachable"), "\(refused.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }
}

/// The work and results of `ScaleOutTests.atOnce`: each slot is written by one thread only, and read after all
/// have finished.
private final class Slots<T>: @unchecked Sendable {
    var works: [() throws -> T]
    var results: [Result<T, any Error>?]

    init(_ works: [() throws -> T]) {
        self.works = works
        results = Array(repeating: nil, count: works.count)
    }
}
