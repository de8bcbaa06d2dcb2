import Logging
import NIOSSL
import Synchronization

/// The TLS certificate and key of `http.tls.*`, read again on SIGHUP: certificates renew, and new connections
/// should get the new one without a restart. Connections already open keep the context they started with.
final class CertificateStore: Sendable {
    let certificatePath: String
    let privateKeyPath: String
    private let context: Mutex<NIOSSLContext>

    /// Reads both files; a file that cannot be read or parsed is a configuration error naming its key.
    init(certificatePath: String, privateKeyPath: String) throws(ConfigError) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        context = Mutex(try Self.load(certificatePath: certificatePath, privateKeyPath: privateKeyPath))
    }

    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the files again; on failure the certificate in use stays, and the error says why.
    func reload() throws(ConfigError) {
        let fresh = try Self.load(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
        context.withLock { $0 = fresh }
    }

    private static func load(certificatePath: String, privateKeyPath: String) throws(ConfigError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigError.invalid("http.tls.certificate_path", "'\(certificatePath)' is not a readable PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw ConfigError.invalid("http.tls.certificate_path", "'\(certificatePath)' holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw ConfigError.invalid("http.tls.private_key_path", "'\(privateKeyPath)' is not a readable PEM private key: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["h2", "http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError.invalid("http.tls.private_key_path", "the key does not fit the certificate: \(error)")
        }
    }
}
