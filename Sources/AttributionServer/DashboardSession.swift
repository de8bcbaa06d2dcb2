import AttributionCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard's login: a signed cookie, not a server-side session, so that any instance sharing `api.keys`
/// accepts it. It names the key it was issued for by a digest prefix and is signed with a secret derived from
/// that key, so removing the key from `api.keys` ends its sessions; it carries its expiry.
/// Value: `v1.<key id>.<expires, Unix seconds>.<HMAC-SHA256, base64url>`.
struct DashboardSession: Sendable {
    static let cookieName = "ca_session"
    static let lifetimeSeconds: Int64 = 12 * 3600

    private struct Key {
        let id: String
        let secret: SymmetricKey
    }

    private let keys: [Key]

    init(apiKeys: [String]) {
        keys = apiKeys.map { key in
            // Never the key itself: a secret only this purpose derives from it.
            let secret = HMAC<SHA256>.authenticationCode(
                for: Data("clickattr dashboard session v1".utf8), using: SymmetricKey(data: Data(key.utf8)))
            return Key(id: Self.id(of: key), secret: SymmetricKey(data: Data(secret)))
        }
    }

    /// Names a key in the cookie without revealing it: the first 8 bytes of its SHA-256, in hex.
    private static func id(of key: String) -> String {
        Hex.encode(SHA256.hash(data: Data(key.utf8)).prefix(8))
    }

    /// A cookie value for the key `apiKey` (which must be one of `api.keys`), valid until `now + lifetime`.
    func issue(forKey apiKey: String, nowSeconds: Int64) -> String? {
        let id = Self.id(of: apiKey)
        guard let key = keys.first(where: { $0.id == id }) else { return nil }
        let payload = "v1.\(id).\(nowSeconds + Self.lifetimeSeconds)"
        return payload + "." + Self.signature(payload, key.secret)
    }

    /// Whether `value` is a cookie issued for a key still configured, unexpired, with a valid signature.
    func accepts(_ value: String?, nowSeconds: Int64) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expires = Int64(parts[2]), expires > nowSeconds,
            let key = keys.first(where: { $0.id == parts[1] }),
            let mac = Base64URL.decode(String(parts[3]))
        else { return false }
        let payload = parts[0...2].joined(separator: ".")
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key.secret)
    }

    private static func signature(_ payload: String, _ secret: SymmetricKey) -> String {
        Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: secret)))
    }

    /// The session cookie of a request, if it sent one.
    static func cookie(_ request: Request) -> String? {
        request.cookies[cookieName]?.value
    }

    /// `Set-Cookie` for a new session; `secure` when the request came over HTTPS.
    static func setCookie(_ value: String, secure: Bool) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(lifetimeSeconds); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` that ends the session in the browser.
    static func clearCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

/// Who may read reports and the dashboard: a bearer key, or a dashboard session cookie.
struct ReportAccess: Sendable {
    let keys: APIKeys
    let sessions: DashboardSession
    let now: @Sendable () -> Int64

    func allows(_ request: Request) -> Bool {
        keys.accepts(APIKeys.bearer(request.headers))
            || sessions.accepts(DashboardSession.cookie(request), nowSeconds: now() / 1000)
    }
}

/// Base64 with the URL alphabet and no padding, as cookie values want it.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
