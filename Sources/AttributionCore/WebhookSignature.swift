import Crypto
import Foundation

/// Checks Meta's `X-Hub-Signature-256` header: HMAC-SHA256 of the raw body, keyed with the app secret.
public struct WebhookSignature: Sendable {
    /// Why a delivery's signature was refused.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case secretNotConfigured
        case missingHeader
        case malformedHeader
        case mismatch

        public var description: String {
            switch self {
            case .secretNotConfigured: "webhook.app_secret is empty, so every webhook POST is refused"
            case .missingHeader: "the X-Hub-Signature-256 header is missing"
            case .malformedHeader: "the X-Hub-Signature-256 header is not 'sha256=' followed by 64 hex digits"
            case .mismatch: "the X-Hub-Signature-256 signature does not match the body"
            }
        }
    }

    private let key: SymmetricKey?

    public init(appSecret: String) {
        self.key = appSecret.isEmpty ? nil : SymmetricKey(data: Data(appSecret.utf8))
    }

    /// Verifies over the bytes as received; the comparison is constant-time.
    public func verify(body: some DataProtocol, header: String?) throws(Failure) {
        var verifier = try begin(header: header)
        verifier.update(body)
        try verifier.verify()
    }

    /// Checks the secret and the header before a byte of the body is read, so that a request that cannot be
    /// authentic is refused without being buffered; the body is then fed to the verifier as it streams in.
    public func begin(header: String?) throws(Failure) -> Verifier {
        guard let key else { throw .secretNotConfigured }
        guard let header else { throw .missingHeader }
        guard header.hasPrefix("sha256="), let mac = Hex.decode(header.dropFirst(7)), mac.count == 32 else {
            throw .malformedHeader
        }
        return Verifier(expected: mac, hmac: HMAC<SHA256>(key: key))
    }

    /// The HMAC of a body being received, and the code its header announced.
    public struct Verifier {
        let expected: [UInt8]
        var hmac: HMAC<SHA256>

        public mutating func update(_ bytes: some DataProtocol) {
            hmac.update(data: bytes)
        }

        /// Compares in constant time: every byte is looked at whatever the first difference.
        public func verify() throws(Failure) {
            let computed = Array(hmac.finalize())
            var difference: UInt8 = 0
            for (lhs, rhs) in zip(computed, expected) { difference |= lhs ^ rhs }
            guard difference == 0, computed.count == expected.count else { throw .mismatch }
        }
    }

    /// The header value Meta would send for `body`; used by tests and the replay tooling.
    public static func header(for body: some DataProtocol, appSecret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(appSecret.utf8)))
        return "sha256=" + Hex.encode(mac)
    }
}
