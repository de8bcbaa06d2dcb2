import AttributionStore
import ClickattrTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The binary as an operator runs it and as slow, idle and hostile clients meet it, over real sockets.
@Suite struct ClientLimitsTests {
    static let shortLimits = """
          idle_timeout_s: 2
          header_timeout_s: 1
          body_timeout_s: 1
        """

    @Test func theBinaryAloneInAnEmptyFolderServesEveryRoute() throws {
        let cli = try CLI()
        let folder = cli.directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let binary = folder.appendingPathComponent("clickattr")
        try FileManager.default.copyItem(at: CLI.executable, to: binary)
        // Only a port, a database path and routes: no templates folder anywhere near.
        let config = folder.appendingPathComponent("clickattr.yaml").path
        try """
        http:
          port: 0
        storage:
          sqlite:
            path: data/clickattr.sqlite
        routes:
          - slug: promo
            destination: https://shop.example.com/promo
          - slug: welcome
            destination: https://shop.example.com/welcome
            mode: landing
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let alone = CLI(directory: folder)
        let (server, port) = try alone.startServer(["serve", "--config", "clickattr.yaml"], executable: binary)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let base = "http://127.0.0.1:\(port)"
        #expect(try CLI.curl(["\(base)/promo?click_id=alone-1"]).hasPrefix("HTTP/1.1 302"))
        let landing = try CLI.curl(["\(base)/welcome?click_id=alone-2"])
        #expect(landing.hasPrefix("HTTP/1.1 200"))
        #expect(landing.contains(#"href="https://shop.example.com/welcome?click_id=alone-2""#))
        #expect(landing.lowercased().contains("content-security-policy: default-src 'none'"))
        #expect(landing.lowercased().contains("x-content-type-options: nosniff"))
        #expect(landing.lowercased().contains("referrer-policy: strict-origin-when-cross-origin"))
        #expect(try CLI.curl(["\(base)/nothing-here"]).hasPrefix("HTTP/1.1 404"))
        #expect(try CLI.curl(["\(base)/healthz"]).hasPrefix("HTTP/1.1 200"))
        #expect(try CLI.curl(["\(base)/readyz"]).hasPrefix("HTTP/1.1 200"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/clickattr.sqlite").path))
    }

    @Test func aWrongTemplatesFolderStopsStartUpWithOneLine() throws {
        let cli = try CLI()
        let result = try cli.run(["serve", "--config", try cli.writeConfig(http: "  templates_dir: /nonexistent/templates")])
        #expect(result.code == 2)
        #expect(result.stderr.contains("http.templates_dir"))
        #expect(result.stderr.contains("'/nonexistent/templates' is not a folder"))
    }

    @Test func anHTTP10RequestIsAnsweredAndClosed() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let connection = try RawConnection(port: port)
        try connection.send("GET /healthz HTTP/1.0\r\n\r\n")
        let answer = connection.readUntilClosed(timeout: 5)
        #expect(answer.text.hasPrefix("HTTP/1.0 200") || answer.text.hasPrefix("HTTP/1.1 200"))
        #expect(answer.closed)
        #expect(answer.seconds < 1)

        let close = try RawConnection(port: port)
        try close.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let closed = close.readUntilClosed(timeout: 5)
        #expect(closed.closed && closed.seconds < 1)
        #expect(closed.text.lowercased().contains("connection: close"))
    }

    @Test func silentSlowAndIdleClientsAreCutOffOnTime() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer(http: Self.shortLimits)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        // Connects and says nothing: the header deadline (1 s).
        let silent = try RawConnection(port: port)
        // Headers trickle in and stop halfway.
        let trickle = try RawConnection(port: port)
        try trickle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        // A body announced and stalled: the body deadline (1 s).
        let stalled = try RawConnection(port: port)
        try stalled.send(
            "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=\(String(repeating: "0", count: 64))\r\nContent-Length: 1000\r\n\r\n{\"entry\":")
        // One request answered, then nothing: the idle deadline (2 s).
        let idle = try RawConnection(port: port)
        try idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.read(until: "ok\n", timeout: 5).hasPrefix("HTTP/1.1 200"))
        // An upload refused before its body was sent; the body follows the answer, then nothing: idle too.
        let refused = try RawConnection(port: port)
        try refused.send("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
        #expect(refused.read(until: "\r\n\r\n", timeout: 5).hasPrefix("HTTP/1.1 401"))
        try refused.send("{}")

        // Each is read after the one before it has closed, so only an upper bound is meaningful.
        for (name, connection, within) in [
            ("silent", silent, 3.0), ("trickle", trickle, 3.0), ("stalled body", stalled, 3.0), ("idle", idle, 4.0),
            ("refused", refused, 4.0),
        ] {
            let result = connection.readUntilClosed(timeout: 8)
            #expect(result.closed, "\(name) was not closed")
            #expect(result.seconds < within, "\(name) closed after \(result.seconds) s")
        }
        // The server is still there for everyone else.
        #expect(try CLI.curl(["http://127.0.0.1:\(port)/healthz"]).hasPrefix("HTTP/1.1 200"))
    }

    @Test func anUnsignedPostIsRefusedBeforeItsBodyIsRead() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let connection = try RawConnection(port: port)
        try connection.send("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n{")
        // The answer comes at once, though 3,999,999 bytes are still owed.
        let answer = connection.read(until: "\r\n\r\n", timeout: 3)
        #expect(answer.hasPrefix("HTTP/1.1 401"))
    }

    @Test func aVisitorIsRedirectedAtOnceWhileAThousandConnectionsStall() async throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var stalled: [RawConnection] = []
        for index in 0..<1000 {
            let connection = try RawConnection(port: port)
            try connection.send(index % 2 == 0 ? "GET /promo HTTP/1.1\r\nHost: x\r\n" : "")
            stalled.append(connection)
        }
        // curl times each request itself, from connecting to the last byte: its own start-up is not counted.
        // The median of five, so that one scheduling hiccup of this shared machine is not taken for the server.
        var times: [Double] = []
        for _ in 0..<5 {
            let answer = try CLI.curl(
                ["-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-A", "Mozilla/5.0 (iPhone) Safari/604.1",
                 "http://127.0.0.1:\(port)/summer-sale?click_id=through"], headers: false)
            let parts = answer.split(separator: " ")
            #expect(parts.first == "302")
            times.append(try #require(parts.last.flatMap { Double($0) }))
        }
        let median = times.sorted()[2]
        #expect(median < 0.1, "redirects took \(times) s")
        try CLI.waitUntilShipped(port: port)
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        #expect(try await store.recentVisits(limit: 1).first?.clickID == "through")
        #expect(stalled.count == 1000)
    }

    /// Past `http.max_connections`, new connections wait in the listen queue: the server neither spins on
    /// accept() nor fails, and serves them as soon as a connection closes.
    @Test func pastTheConnectionLimitNewConnectionsWaitWithoutSpinning() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer(http: "  max_connections: 20")
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var held: [RawConnection] = []
        for _ in 0..<40 { held.append(try RawConnection(port: port)) }
        let before = try Self.cpuTicks(server.processIdentifier)
        Thread.sleep(forTimeInterval: 1)
        let spent = try Self.cpuTicks(server.processIdentifier) - before
        // Clock ticks are hundredths of a second: a spinning accept loop would take most of one.
        #expect(spent < 20, "the server used \(spent) ticks of CPU in a second while over its limit")
        held.removeAll()
        #expect(try CLI.curl(["http://127.0.0.1:\(port)/healthz"]).hasPrefix("HTTP/1.1 200"))
    }

    /// User and system CPU time of a process, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }

    @Test func sigtermExitsPromptlyWithAStalledUploadOpen() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()
        let stalled = try RawConnection(port: port)
        try stalled.send(
            "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=\(String(repeating: "0", count: 64))\r\nContent-Length: 100000\r\n\r\n{")
        let idle = try RawConnection(port: port)
        Thread.sleep(forTimeInterval: 0.3)
        let start = Date()
        server.terminate()
        server.waitUntilExit()
        // The default body deadline is 30 s; a stopping server gives a stalled upload 5 s.
        #expect(Date().timeIntervalSince(start) < 8)
        #expect(server.terminationStatus == 0)
        _ = idle
    }
}
