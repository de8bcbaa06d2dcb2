import Foundation
import Testing

/// Native TLS with a self-signed certificate, reloaded on SIGHUP, through the real binary and curl.
@Suite struct TLSTests {
    /// A self-signed certificate for localhost whose subject carries `name`, written beside the config.
    static func certificate(_ cli: CLI, name: String) throws {
        let process = Process()
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

    @Test func servesOverTLSAndTakesARenewedCertificateOnSIGHUP() throws {
        let cli = try CLI()
        try Self.certificate(cli, name: "first")
        let (server, port) = try cli.startServer(
            http: "  tls:\n    certificate_path: \(cli.path("cert.pem"))\n    private_key_path: \(cli.path("key.pem"))")
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let url = "https://localhost:\(port)/summer-sale?click_id=tls-1"
        let first = try CLI.curl(["-k", "-v", "-o", "/dev/null", url], headers: false, standardError: true)
        #expect(first.contains("< HTTP/1.1 302"))
        #expect(first.contains("O=first") || first.contains("O = first"))

        try Self.certificate(cli, name: "second")
        kill(server.processIdentifier, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        let second = try CLI.curl(["-k", "-v", "-o", "/dev/null", url], headers: false, standardError: true)
        #expect(second.contains("< HTTP/1.1 302"))
        #expect(second.contains("O=second") || second.contains("O = second"))
        #expect(server.isRunning)
        // Plain HTTP on the TLS port gets nowhere.
        #expect(!(try CLI.curl(["http://127.0.0.1:\(port)/summer-sale"]).hasPrefix("HTTP/1.1 302")))
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
