import AttributionCore
import Glibc
import Hummingbird
import Synchronization

/// The first-party cookie `ca_vid` that lets a later conversion find the visitor's click.
enum VisitorCookie {
    static let name = "ca_vid"
    static let maxAgeSeconds = 400 * 24 * 3600

    /// The visitor id from the Cookie header, when it is one clickattr could have issued.
    static func read(_ headers: some LandingHeaders) -> String? {
        for header in headers.all(.cookie) {
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

    /// 32 hex digits: the issue time in milliseconds (48 bits) then 80 random bits, like a UUIDv7. Ids issued
    /// in time order land at the end of the `visits(visitor_id)` index instead of on a random page of it, so a
    /// group commit writes a few index pages rather than one per new visitor.
    static func newID(now milliseconds: Int64) -> String {
        let random = RandomPool.shared.next()
        let time = UInt64(clamping: milliseconds) & 0xFFFF_FFFF_FFFF
        let bits = ((time << 16 | random.0 >> 48).bigEndian, (random.0 << 16 | random.1 >> 48).bigEndian)
        return withUnsafeBytes(of: bits) { Hex.encode($0) }
    }

    static func setCookieHeader(_ id: String) -> String {
        // One allocation: `+` twice made the middle string too.
        var header = ""
        header.reserveCapacity(setCookiePrefix.utf8.count + id.utf8.count + setCookieSuffix.utf8.count)
        header += setCookiePrefix
        header += id
        header += setCookieSuffix
        return header
    }

    /// Writes the Set-Cookie value for `id` (what `setCookieHeader` returns) without making a string of it.
    static func writeSetCookie(_ id: String, into bytes: inout ByteBuffer) {
        bytes.writeString(setCookiePrefix)
        bytes.writeString(id)
        bytes.writeString(setCookieSuffix)
    }

    private static let setCookiePrefix = "\(name)="
    private static let setCookieSuffix = "; Path=/; Max-Age=\(maxAgeSeconds); HttpOnly; SameSite=Lax"
}

/// Random bits from the system, fetched 4 KiB at a time: one system call for 256 visitor ids rather than two for
/// each (a system call was a tenth of a landing request's own work). glibc's `arc4random_buf` draws from the
/// kernel's generator (`getrandom`).
final class RandomPool: Sendable {
    static let shared = RandomPool()
    private static let words = 512

    private let pool = Mutex<(words: [UInt64], used: Int)>(([], 0))

    /// Two 64-bit draws.
    func next() -> (UInt64, UInt64) {
        pool.withLock { pool in
            if pool.used + 2 > pool.words.count {
                pool.words = Self.fetch()
                pool.used = 0
            }
            defer { pool.used += 2 }
            return (pool.words[pool.used], pool.words[pool.used + 1])
        }
    }

    private static func fetch() -> [UInt64] {
        var words = [UInt64](repeating: 0, count: Self.words)
        words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        return words
    }
}
