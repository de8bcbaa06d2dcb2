import Foundation
import NIOSSL
import PostgresNIO

/// `storage.postgres.url` as libpq users write it: `postgres://user:password@host:port/database?sslmode=...`.
/// `sslmode` is libpq's: `disable`; `prefer` (the default) and `require` encrypt without checking the
/// certificate; `verify-ca` checks it against `sslrootcert` (or the system's roots); `verify-full` also checks
/// the host name. A `host` parameter that starts with `/` names a Unix socket folder.
public enum PostgresURL {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    /// The pool's configuration, and a single connection's (the start-up check, which reports why it fails
    /// instead of waiting for the pool's circuit breaker).
    public struct Configurations: Sendable {
        public var client: PostgresClient.Configuration
        public var connection: PostgresConnection.Configuration
    }

    public static func configuration(_ text: String) throws(Invalid) -> PostgresClient.Configuration {
        try configurations(text).client
    }

    public static func configurations(_ text: String) throws(Invalid) -> Configurations {
        guard !text.isEmpty else { throw Invalid(description: "is empty; it must be postgres://user:password@host:port/database") }
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw Invalid(description: "is not a postgres:// URL (postgres://user:password@host:port/database)")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw Invalid(description: "names no user (postgres://user:password@host:port/database)")
        }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var database = components.percentEncodedPath.removingPercentEncoding ?? ""
        if database.hasPrefix("/") { database.removeFirst() }
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "names no database (postgres://user:password@host:port/database)")
        }
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            parameters[item.name] = item.value ?? ""
        }
        let known: Set = ["sslmode", "sslrootcert", "host", "application_name", "connect_timeout"]
        if let unknown = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid(description: "has the parameter '\(unknown)', which clickattr does not know (it knows \(known.sorted().joined(separator: ", ")))")
        }
        let seconds = try connectTimeout(parameters)
        let startup = [("application_name", parameters["application_name"] ?? "clickattr")]
        var result: Configurations
        if let socketFolder = parameters["host"], socketFolder.hasPrefix("/") {
            let socket = "\(socketFolder)/.s.PGSQL.\(components.port ?? 5432)"
            result = Configurations(
                client: .init(unixSocketPath: socket, username: user, password: password, database: database),
                connection: .init(unixSocketPath: socket, username: user, password: password, database: database))
        } else {
            guard let host = components.host, !host.isEmpty else {
                throw Invalid(description: "names no host (postgres://user:password@host:port/database)")
            }
            let port = components.port ?? 5432
            guard (1...65535).contains(port) else { throw Invalid(description: "has the port \(port), outside 1...65535") }
            let (mode, tls) = try tls(parameters)
            let context: NIOSSLContext?
            do {
                context = mode == "disable" ? nil : try NIOSSLContext(configuration: tls)
            } catch {
                throw Invalid(description: "has TLS settings that cannot be used: \(error)")
            }
            result = Configurations(
                client: .init(
                    host: host, port: port, username: user, password: password, database: database,
                    tls: mode == "disable" ? .disable : mode == "prefer" ? .prefer(tls) : .require(tls)),
                connection: .init(
                    host: host, port: port, username: user, password: password, database: database,
                    tls: context.map { mode == "prefer" ? .prefer($0) : .require($0) } ?? .disable))
        }
        result.client.options.connectTimeout = .seconds(seconds)
        result.client.options.additionalStartupParameters = startup
        result.connection.options.connectTimeout = .seconds(Int64(seconds))
        result.connection.options.additionalStartupParameters = startup
        return result
    }

    /// libpq's `sslmode`, as `disable`, `prefer` or `require`, and the TLS settings that go with it.
    private static func tls(_ parameters: [String: String]) throws(Invalid) -> (mode: String, configuration: TLSConfiguration) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate = parameters["sslrootcert"] {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate))
            } catch {
                throw Invalid(description: "has sslrootcert '\(rootCertificate)', which is not a readable PEM certificate")
            }
        }
        switch parameters["sslmode"] ?? "prefer" {
        case "disable":
            return ("disable", tls)
        case "allow", "prefer":
            tls.certificateVerification = .none
            return ("prefer", tls)
        case "require":
            tls.certificateVerification = .none
            return ("require", tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return ("require", tls)
        case "verify-full":
            tls.certificateVerification = .fullVerification
            return ("require", tls)
        case let other:
            throw Invalid(description: "has sslmode '\(other)'; it must be disable, allow, prefer, require, verify-ca or verify-full")
        }
    }

    private static func connectTimeout(_ parameters: [String: String]) throws(Invalid) -> Int {
        guard let seconds = parameters["connect_timeout"] else { return 5 }
        guard let value = Int(seconds), (1...600).contains(value) else {
            throw Invalid(description: "has connect_timeout '\(seconds)'; it must be whole seconds from 1 to 600")
        }
        return value
    }
}
