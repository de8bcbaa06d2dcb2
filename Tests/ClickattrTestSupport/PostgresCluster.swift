import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for the test process: made with the image's server binaries in a temporary
/// folder on a private port and socket folder (run as the `postgres` user when the tests run as root), started
/// on first use and removed when the process exits. Each test takes a database of its own.
public enum PostgresCluster {
    /// Where the server binaries are; `CLICKATTR_PG_BIN` overrides.
    static let binaries = ProcessInfo.processInfo.environment["CLICKATTR_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    /// When set (as `.ci/run` does), a cluster that cannot start fails the tests instead of skipping them.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["CLICKATTR_REQUIRE_POSTGRES"] == "1" }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// One running cluster: its folder (data, socket, log) and port.
    public struct Cluster: Sendable {
        let folder: String
        public let port: Int

        /// The URL of a new, empty database on this cluster.
        public func freshDatabaseURL() throws -> String {
            let name = "test_\(PostgresCluster.databases.add(1, ordering: .relaxed).newValue)"
            try run(["createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", "clickattr", name], as: nil)
            return "postgres://clickattr@127.0.0.1:\(port)/\(name)?sslmode=disable"
        }

        /// Stops the server (fast shutdown: connections are cut), as a failing database goes away.
        public func stop() throws {
            try run(["pg_ctl", "-D", "\(folder)/data", "-m", "fast", "-w", "stop"], as: owner)
        }

        /// Starts the server (again).
        public func start() throws {
            // Durability settings are off: a test cluster is thrown away, and the tests measure nothing.
            let options = [
                "-p \(port)", "-k \(folder)", "-c listen_addresses=127.0.0.1", "-c fsync=off",
                "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=500",
            ].joined(separator: " ")
            try run(["pg_ctl", "-D", "\(folder)/data", "-l", "\(folder)/server.log", "-w", "-o", options, "start"], as: owner)
        }

        fileprivate func remove() {
            try? run(["pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "-w", "stop"], as: owner)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static let shared: Result<Cluster, Unavailable> = {
        let result = Result { () throws(Unavailable) -> Cluster in try makeCluster() }
        if case .failure(let reason) = result {
            FileHandle.standardError.write(
                Data("\n*** PostgreSQL tests SKIPPED: \(reason) ***\n*** (set CLICKATTR_REQUIRE_POSTGRES=1 to make this a failure)\n\n".utf8))
        }
        return result
    }()

    fileprivate static let databases = Atomic<Int>(0)
    private static let clusters = Atomic<Int>(0)
    private static let made = Mutex<[Cluster]>([])

    /// Whether the shared cluster runs (starting it if it has not been tried yet).
    public static var isAvailable: Bool {
        if case .success = shared { return true }
        return false
    }

    /// Why the shared cluster does not run, or nil when it does.
    public static var unavailableReason: String? {
        if case .failure(let reason) = shared { return reason.description }
        return nil
    }

    /// The URL of a new, empty database on the shared cluster.
    public static func freshDatabaseURL() throws -> String {
        try shared.get().freshDatabaseURL()
    }

    /// A cluster of the caller's own, for a test that stops and starts its server.
    public static func dedicated() throws -> Cluster {
        _ = try shared.get()
        return try makeCluster()
    }

    fileprivate static var owner: String? { geteuid() == 0 ? "postgres" : nil }

    private static func makeCluster() throws(Unavailable) -> Cluster {
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb") else {
            throw Unavailable(description: "no PostgreSQL server binaries in \(binaries)")
        }
        let number = clusters.add(1, ordering: .relaxed).newValue
        if number == 1 { removeAbandonedClusters() }
        let folder = "/tmp/clickattr-pg-\(getpid())-\(number)"
        do {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if let owner {
                try run(["/bin/chown", owner, folder], as: nil)
            }
            try run(
                ["initdb", "-D", "\(folder)/data", "-U", "clickattr", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"],
                as: owner)
            let cluster = Cluster(folder: folder, port: try FreePort.pick())
            try cluster.start()
            let first = made.withLock { made in
                made.append(cluster)
                return made.count == 1
            }
            if first { atexit { PostgresCluster.removeAll() } }
            return cluster
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(description: "\(error)")
        }
    }

    /// Clusters left by test processes that were killed before their exit handler ran.
    private static func removeAbandonedClusters() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("clickattr-pg-") {
            let pidText = name.dropFirst("clickattr-pg-".count).prefix { $0 != "-" }
            guard let pid = Int32(pidText), kill(pid, 0) != 0, errno == ESRCH else { continue }
            Cluster(folder: "/tmp/\(name)", port: 0).remove()
        }
    }

    private static func removeAll() {
        for cluster in made.withLock({ $0 }) {
            cluster.remove()
        }
    }

    /// Runs a server binary (or an absolute path) to completion, as `user` when given; throws with its output.
    /// Spawned by hand, not with Foundation's `Process`: the server that `pg_ctl start` leaves running would
    /// inherit `Process`'s termination-watching descriptor and `waitUntilExit` would wait for the server to stop.
    /// Here the child gets only standard input, output (a file) and error, nothing else.
    fileprivate static func run(_ arguments: [String], as user: String?) throws {
        var command = arguments
        if !command[0].hasPrefix("/") { command[0] = "\(binaries)/\(command[0])" }
        if let user { command = ["/usr/sbin/runuser", "-u", user, "--"] + command }
        let outputPath = "/tmp/clickattr-pgout-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        spawnCloseFrom(&actions, 3)
        spawnChangeDirectory(&actions, "/tmp")
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = Spawn.serialised { posix_spawn(&pid, command[0], &actions, nil, argv, environ) }
        guard spawned == 0 else {
            throw Unavailable(description: "\(command[0]) could not be started: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Unavailable(
                description: "\(arguments.joined(separator: " ")) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
