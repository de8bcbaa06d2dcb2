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

    public static func configuration(_ text: String) throws(Invalid) -> PostgresClient.Configuration {
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
        if let socketFolder = parameters["host"], socketFolder.hasPrefix("/") {
            let port = components.port ?? 5432
            var configuration = PostgresClient.Configuration(
                unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            try apply(parameters, to: &configuration)
            return configuration
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "names no host (postgres://user:password@host:port/database)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Invalid(description: "has the port \(port), outside 1...65535") }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try tls(parameters))
        try apply(parameters, to: &configuration)
        return configuration
    }

    private static func tls(_ parameters: [String: String]) throws(Invalid) -> PostgresClient.Configuration.TLS {
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
            return .disable
        case "allow", "prefer":
            tls.certificateVerification = .none
            return .prefer(tls)
        case "require":
            tls.certificateVerification = .none
            return .require(tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case "verify-full":
            tls.certificateVerification = .fullVerification
            return .require(tls)
        case let other:
            throw Invalid(description: "has sslmode '\(other)'; it must be disable, allow, prefer, require, verify-ca or verify-full")
        }
    }

    private static func apply(_ parameters: [String: String], to configuration: inout PostgresClient.Configuration)
        throws(Invalid)
    {
        if let seconds = parameters["connect_timeout"] {
            guard let value = Int(seconds), (1...600).contains(value) else {
                throw Invalid(description: "has connect_timeout '\(seconds)'; it must be whole seconds from 1 to 600")
            }
            configuration.options.connectTimeout = .seconds(value)
        } else {
            configuration.options.connectTimeout = .seconds(5)
        }
        configuration.options.additionalStartupParameters = [
            ("application_name", parameters["application_name"] ?? "clickattr")
        ]
    }
}
