import ClickattrTestSupport
import Foundation
import Testing

/// Native TLS with a self-signed certificate, reloaded on SIGHUP, through the real binary and curl.
@Suite struct TLSTests {
    /// A self-signed certificate for localhost whose subject carries `name`, written beside the config.
    static func certificate(_ cli: CLI, name: String) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost/O=\(name)",
            "-keyout", cli.path("key.pem"), "-out", cli.path("cert.pem"),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func servesHTTP2AndHTTP1OverTLSAndTakesARenewedCertificateOnSIGHUP() throws {
        let cli = try CLI()
        try Self.certificate(cli, name: "first")
        let (server, port) = try cli.startServer(
            http: "  tls:\n    certificate_path: \(cli.path("cert.pem"))\n    private_key_path: \(cli.path("key.pem"))",
            extra: "api:\n  keys: [tls-test-key-0123456789]")
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let url = "https://localhost:\(port)/summer-sale?click_id=tls-1"
        // curl offers h2 by ALPN and takes it; --http1.1 offers HTTP/1.1 only.
        let first = try CLI.curl(["-k", "-v", "-o", "/dev/null", url], headers: false, standardError: true)
        #expect(first.contains("ALPN: server accepted h2"))
        #expect(first.contains("< HTTP/2 302"))
        #expect(first.contains("O=first") || first.contains("O = first"))
        let http1 = try CLI.curl(["-k", "-v", "--http1.1", "-o", "/dev/null", url], headers: false, standardError: true)
        #expect(http1.contains("< HTTP/1.1 302"))

        // A request with a body over HTTP/2 goes through the same routes.
        let conversion = [
            "-k", "--http2", "-X", "POST", "https://localhost:\(port)/api/v1/conversions",
            "-H", "Authorization: Bearer tls-test-key-0123456789", "-H", "Content-Type: application/json",
            "-d", #"{"click_id":"tls-1","event":"purchase","value":"24.99","currency":"EUR","order_id":"T-1"}"#,
        ]
        #expect(try CLI.curl(conversion).hasPrefix("HTTP/2 201"))
        #expect(try CLI.curl(conversion).hasPrefix("HTTP/2 200"))

        try Self.certificate(cli, name: "second")
        kill(server.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        let second = try CLI.curl(["-k", "-v", "-o", "/dev/null", url], headers: false, standardError: true)
        #expect(second.contains("< HTTP/2 302"))
        #expect(second.contains("O=second") || second.contains("O = second"))
        #expect(server.isRunning)
        // Plain HTTP on the TLS port gets nowhere.
        #expect(!(try CLI.curl(["http://127.0.0.1:\(port)/summer-sale"]).hasPrefix("HTTP/1.1 302")))
    }

    @Test func aClientThatNeverFinishesItsHandshakeIsDropped() throws {
        let cli = try CLI()
        try Self.certificate(cli, name: "stall")
        let (server, port) = try cli.startServer(
            http: "  header_timeout_s: 1\n  tls:\n    certificate_path: \(cli.path("cert.pem"))\n    private_key_path: \(cli.path("key.pem"))")
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let stalled = try RawConnection(port: port)
        try stalled.send("\u{16}\u{03}\u{01}")  // the start of a TLS record, then nothing
        let result = stalled.readUntilClosed(timeout: 5)
        #expect(result.closed)
        #expect(result.seconds < 3)
    }

    @Test func aMissingCertificateStopsStartUpWithOneLine() throws {
        let cli = try CLI()
        let result = try cli.run([
            "serve", "--config",
            try cli.writeConfig(http: "  tls:\n    certificate_path: /nonexistent.pem\n    private_key_path: /nonexistent.key"),
        ])
        #expect(result.code == 2)
        #expect(result.stderr.contains("http.tls.certificate_path"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func sighupWithoutTLSLeavesTheServiceRunning() throws {
        let cli = try CLI()
        let (server, port) = try cli.startServer()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        kill(server.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(server.isRunning)
        #expect(try CLI.curl(["http://127.0.0.1:\(port)/healthz"]).hasPrefix("HTTP/1.1 200"))
    }
}
