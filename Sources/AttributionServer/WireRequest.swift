import HTTPTypes
import NIOCore

/// A plain GET or HEAD request read straight from a connection's bytes, for the landing fast path: the request
/// line, whether the connection stays open, and the few header fields the landing controller reads. Anything
/// less plain (another method, a body, an absolute or non-ASCII target, folded or non-ASCII header lines, an
/// Upgrade or Expect, a Connection header other than one `close` or `keep-alive`) is not read here: it is left
/// to NIO's HTTP/1 decoder, which answers it as it always has.
struct WireRequest {
    var method: HTTPRequest.Method
    /// The request target as sent: origin form, visible ASCII.
    var target: String
    var keepAlive: Bool
    var headers: WireHeaders

    enum Reading {
        /// The head is not all here yet.
        case incomplete
        /// Not a request this reader takes: hand the bytes to the HTTP decoder.
        case declined
        /// A request whose head is the first `length` bytes.
        case request(WireRequest, length: Int)
    }

    /// A head longer than this, or with more fields, is left to the HTTP decoder (and its limits, which are
    /// larger: Hummingbird's 80 KiB and 1,000 fields).
    static let maximumHeadBytes = 16 * 1024
    static let maximumFields = 100

    static func read(_ buffer: ByteBuffer) -> Reading {
        buffer.withUnsafeReadableBytes { read($0.assumingMemoryBound(to: UInt8.self)) }
    }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        // The method first: most connections that are not landing ones are told apart by their first bytes.
        let method: HTTPRequest.Method
        let afterMethod: Int
        if startsWith(bytes, "GET ") {
            (method, afterMethod) = (.get, 4)
        } else if startsWith(bytes, "HEAD ") {
            (method, afterMethod) = (.head, 5)
        } else if isPrefix(bytes, of: "GET ") || isPrefix(bytes, of: "HEAD ") {
            return .incomplete
        } else {
            return .declined
        }
        let requestLineEnd: Int
        switch lineEnd(bytes, from: afterMethod) {
        case .at(let end): requestLineEnd = end
        case .notYet: return pending(bytes)
        case .malformed: return .declined
        }

        // "<target> HTTP/1.x"
        let versionStart = requestLineEnd - 9
        guard versionStart > afterMethod, bytes[versionStart] == UInt8(ascii: " "),
            startsWith(bytes, "HTTP/1.", at: versionStart + 1)
        else { return .declined }
        let minor = bytes[versionStart + 8]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0") else { return .declined }
        guard bytes[afterMethod] == UInt8(ascii: "/") else { return .declined }
        for index in afterMethod..<versionStart where !(0x21...0x7E).contains(bytes[index]) { return .declined }

        var headers = WireHeaders()
        var connection: Bool?
        var lineStart = requestLineEnd + 2
        var fieldCount = 0
        while true {
            let end: Int
            switch lineEnd(bytes, from: lineStart) {
            case .at(let found): end = found
            case .notYet: return pending(bytes)
            case .malformed: return .declined
            }
            if end == lineStart { break }
            fieldCount += 1
            guard fieldCount <= maximumFields else { return .declined }
            // name ":" OWS value OWS; no folded lines, no whitespace before the colon.
            var colon = lineStart
            while colon < end, isTokenByte(bytes[colon]) { colon += 1 }
            guard colon > lineStart, colon < end, bytes[colon] == UInt8(ascii: ":") else { return .declined }
            var valueStart = colon + 1
            var valueEnd = end
            while valueStart < valueEnd, isBlank(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, isBlank(bytes[valueEnd - 1]) { valueEnd -= 1 }
            for index in valueStart..<valueEnd where !isValueByte(bytes[index]) { return .declined }
            let name = UnsafeBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            switch field(name) {
            case .kept(let fieldName):
                headers.fields.append((fieldName, String(decoding: value, as: UTF8.self)))
            case .contentLength:
                guard value.count == 1, value[0] == UInt8(ascii: "0") else { return .declined }
            case .connection:
                guard connection == nil else { return .declined }
                if equalsIgnoringCase(value, "close") {
                    connection = false
                } else if equalsIgnoringCase(value, "keep-alive") {
                    connection = true
                } else {
                    return .declined
                }
            case .declined:
                return .declined
            case .ignored:
                break
            }
            lineStart = end + 2
        }
        let target = String(decoding: UnsafeBufferPointer(rebasing: bytes[afterMethod..<versionStart]), as: UTF8.self)
        let keepAlive = connection ?? (minor == UInt8(ascii: "1"))
        return .request(
            WireRequest(method: method, target: target, keepAlive: keepAlive, headers: headers), length: lineStart + 2)
    }

    private static func pending(_ bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        bytes.count > maximumHeadBytes ? .declined : .incomplete
    }

    private enum Field {
        case kept(HTTPField.Name)
        case contentLength
        case connection
        /// A field that gives the request a body or changes the protocol: the decoder's.
        case declined
        case ignored
    }

    /// The fields the landing controller reads (`LandingController.decide`), and those this reader must act on.
    private static let fields: [(name: [UInt8], field: Field)] = {
        let named: [(String, Field)] = [
            ("user-agent", .kept(.userAgent)), ("referer", .kept(.referer)), ("cookie", .kept(.cookie)),
            ("x-forwarded-for", .kept(.xForwardedFor)), ("content-length", .contentLength), ("connection", .connection),
            ("transfer-encoding", .declined), ("expect", .declined), ("upgrade", .declined),
        ]
        return named.map { (Array($0.0.utf8), $0.1) }
    }()

    private static func field(_ name: UnsafeBufferPointer<UInt8>) -> Field {
        for candidate in fields where candidate.name.count == name.count {
            if equalsIgnoringCase(name, candidate.name) { return candidate.field }
        }
        return .ignored
    }

    private enum LineEnd {
        /// The index of the line's CR.
        case at(Int)
        case notYet
        /// A bare CR or LF: the decoder's to judge.
        case malformed
    }

    /// Where the line starting at `start` ends (its CRLF).
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> LineEnd {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\r"):
                guard index + 1 < bytes.count else { return .notYet }
                return bytes[index + 1] == UInt8(ascii: "\n") ? .at(index) : .malformed
            case UInt8(ascii: "\n"):
                return .malformed
            default:
                index += 1
            }
        }
        return .notYet
    }

    private static func startsWith(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString, at start: Int = 0) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count - start >= count else { return false }
        let pointer = text.utf8Start
        for offset in 0..<count where bytes[start + offset] != pointer[offset] { return false }
        return true
    }

    /// Whether all of `bytes` (fewer than `text`) could be the start of `text`.
    private static func isPrefix(_ bytes: UnsafeBufferPointer<UInt8>, of text: StaticString) -> Bool {
        guard bytes.count < text.utf8CodeUnitCount else { return false }
        let pointer = text.utf8Start
        for offset in 0..<bytes.count where bytes[offset] != pointer[offset] { return false }
        return true
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: some Collection<UInt8>)
        -> Bool
    {
        guard bytes.count == lowercase.count else { return false }
        for (byte, expected) in zip(bytes, lowercase) {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if lowered != expected { return false }
        }
        return true
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        equalsIgnoringCase(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// Visible ASCII, space and tab: a value with other bytes (obs-text, controls) is left to the decoder.
    private static func isValueByte(_ byte: UInt8) -> Bool { (0x20...0x7E).contains(byte) || byte == UInt8(ascii: "\t") }

    /// RFC 9110's tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

/// The header fields of a `WireRequest` that the landing controller reads, in the order sent.
struct WireHeaders: LandingHeaders {
    var fields: [(name: HTTPField.Name, value: String)] = []

    func first(_ name: HTTPField.Name) -> String? {
        fields.first { $0.name == name }?.value
    }

    func all(_ name: HTTPField.Name) -> [String] {
        fields.compactMap { $0.name == name ? $0.value : nil }
    }
}
