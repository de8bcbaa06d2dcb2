import AttributionCore
import Hummingbird

/// The first-party cookie `ca_vid` that lets a later conversion find the visitor's click.
enum VisitorCookie {
    static let name = "ca_vid"
    static let maxAgeSeconds = 400 * 24 * 3600

    /// The visitor id from the Cookie header, when it is one clickattr could have issued.
    static func read(_ headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if isValid(value) { return value }
            }
        }
        return nil
    }

    static func isValid(_ value: String) -> Bool {
        (16...64).contains(value.utf8.count)
            && value.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    /// 128 random bits, URL-safe.
    static func newID() -> String {
        // Two 64-bit draws rather than sixteen byte draws: each draw is a system call.
        var generator = SystemRandomNumberGenerator()
        let bits: (UInt64, UInt64) = (generator.next(), generator.next())
        return withUnsafeBytes(of: bits) { Hex.encode($0) }
    }

    static func setCookieHeader(_ id: String) -> String {
        "\(name)=\(id); Path=/; Max-Age=\(maxAgeSeconds); HttpOnly; SameSite=Lax"
    }
}
