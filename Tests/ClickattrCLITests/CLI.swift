import ClickattrTestSupport
import Foundation

/// Runs the built `clickattr` executable as a user would, in a scratch folder of its own.
struct CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The executable sits beside the test bundle in the build folder.
    static var executable: URL {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ].compactMap { $0?.appendingPathComponent("clickattr") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? packageRoot.appendingPathComponent(".build/debug/clickattr")
    }

    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    let directory: URL

    init() throws {
        directory = try Scratch.directory("cli")
    }

    init(directory: URL) {
        self.directory = directory
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// A config for this scratch folder: its own database, the templates built into the binary.
    /// `storage` replaces the SQLite database's block (for PostgreSQL).
    func writeConfig(port: Int = 0, http: String = "", storage: String? = nil, extra: String = "") throws -> String {
        try write(
            "clickattr.yaml",
            """
            http:
              port: \(port)
            \(http)
            storage:
            \(storage ?? "  sqlite:\n    path: \(path("db/clickattr.sqlite"))")
            webhook:
              verify_token: cli-token
              app_secret: cli-secret
            routes:
              - slug: summer-sale
                destination: https://shop.example.com/summer
            \(extra)
            """)
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = makeProcess(arguments, environment: environment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            code: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    func makeProcess(_ arguments: [String], environment: [String: String] = [:], executable: URL = CLI.executable)
        -> ChildProcess
    {
        let process = ChildProcess()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLICKATTR_") }
        env.merge(environment) { $1 }
        process.environment = env
        return process
    }

    /// Starts `clickattr serve` on a port the system picks, and returns once it is listening.
    func startServer(http: String = "", storage: String? = nil, extra: String = "") throws -> (process: ChildProcess, port: Int) {
        try startServer(["serve", "--config", try writeConfig(port: 0, http: http, storage: storage, extra: extra)])
    }

    /// The storage block of an instance on PostgreSQL, with its spool in this scratch folder.
    func postgresStorage(url: String) -> String {
        "  driver: postgres\n  postgres:\n    url: \(url)\n  spool:\n    path: \(path("spool/spool.sqlite"))"
    }

    /// Starts a server with these arguments (and executable) and returns once it says on which port it listens.
    func startServer(_ arguments: [String], executable: URL = CLI.executable) throws -> (process: ChildProcess, port: Int) {
        let process = makeProcess(arguments, executable: executable)
        let log = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = log.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let range = seen.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                let port = Int(seen[range].split(separator: ":").last ?? "")
            {
                // Keep draining the log so the server never blocks on a full pipe.
                log.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
                return (process, port)
            }
        }
        process.terminate()
        throw ServerDidNotStart(log: seen)
    }

    struct ServerDidNotStart: Error {
        let log: String
    }

    /// Runs curl against a live server and returns its status line and headers (or what it says on standard
    /// error, with `-v`).
    /// Waits (at most 5 s) until the server on `port` has shipped its spool: a visit is on disk in the spool
    /// before its 302 and reaches the database within a second, so a test that reads the database right after
    /// answers waits for this first.
    static func waitUntilShipped(port: Int) throws {
        for _ in 0..<100 where !(try curl(["http://127.0.0.1:\(port)/readyz"]).contains(#""spooled_visits":0"#)) {
            usleep(50_000)
        }
    }

    static func curl(_ arguments: [String], headers: Bool = true, standardError: Bool = false) throws -> String {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "10"] + (headers ? ["-i"] : []) + arguments
        let out = Pipe()
        if standardError {
            process.standardError = out
            process.standardOutput = FileHandle.nullDevice
        } else {
            process.standardOutput = out
        }
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
