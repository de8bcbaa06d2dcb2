import HTTPTypes

/// The protective headers of every answer clickattr writes: nothing it serves may be framed, sniffed as another
/// type, or load anything; a landing page may load what its configured policy allows (tracking pixels, say).
enum SecurityHeaders {
    /// For text, JSON and CSV: nothing to load, nothing to run.
    static let lockedPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    /// The built-in landing page: its own inline style, and images from anywhere over HTTPS.
    static let defaultLandingPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    /// The browsers' own default, said explicitly: the shop sees clickattr's origin, never a visit's query.
    static let referrerPolicy = "strict-origin-when-cross-origin"

    /// `Content-Type`, `Cache-Control: no-store` and the protective headers, with `policy` as the CSP.
    static func fields(contentType: String, policy: String = lockedPolicy) -> HTTPFields {
        [
            .contentType: contentType, .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
            .contentSecurityPolicy: policy, .referrerPolicy: referrerPolicy,
        ]
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
