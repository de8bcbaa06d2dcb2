import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import AttributionCore

/// The bearer tokens of `api.keys`, compared in constant time.
struct APIKeys: Sendable {
    private let digests: [SHA256.Digest]

    init(_ keys: [String]) {
        digests = keys.map { SHA256.hash(data: Data($0.utf8)) }
    }

    /// Comparing digests keeps the time independent of where a wrong key first differs.
    func accepts(_ candidate: String?) -> Bool {
        guard let candidate, !candidate.isEmpty else { return false }
        let digest = SHA256.hash(data: Data(candidate.utf8))
        var matched = false
        for key in digests where key == digest {
            matched = true
        }
        return matched
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ headers: HTTPFields) -> String? {
        guard let value = headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        return value.dropFirst(7).trimmingCharacters(in: .whitespaces)
    }

    static func unauthorized() -> Response {
        var response = Response.json(.object(["error": .string("a valid API key is required (Authorization: Bearer KEY)")]), status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}

extension Response {
    /// A JSON answer; the body is never cached.
    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: SecurityHeaders.fields(contentType: "application/json; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: value.canonicalJSON() + "\n")))
    }
}
