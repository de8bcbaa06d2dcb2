/// Reads and rewrites the query part of a URL without trusting a byte of it.
public enum QueryString {
    /// One decoded `name=value` pair, with the raw text it was read from.
    public struct Pair: Sendable {
        public let name: String
        /// Nil when the percent-decoded bytes are not UTF-8: replacing them would make distinct values equal.
        public let value: String?
        public let raw: Substring
    }

    /// Decoded name/value pairs in order, as a browser's URLSearchParams would read them; pairs without a name are
    /// left out. Split on bytes: `&` and `=` are ASCII.
    public static func parse(_ raw: Substring) -> [Pair] {
        // One pass over the bytes, no intermediate array of pieces: this runs on every visit.
        var pairs: [Pair] = []
        let utf8 = raw.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            var end = start
            var equals: Substring.UTF8View.Index?
            while end < utf8.endIndex, utf8[end] != UInt8(ascii: "&") {
                if equals == nil, utf8[end] == UInt8(ascii: "=") { equals = end }
                end = utf8.index(after: end)
            }
            if start < end {
                let pair = raw[start..<end]
                let name = decode(equals.map { raw[start..<$0] } ?? pair)
                if !name.isEmpty {
                    let value = equals.map { decodeExactly(raw[utf8.index(after: $0)..<end]) } ?? ""
                    if pairs.isEmpty { pairs.reserveCapacity(4) }
                    pairs.append(Pair(name: name, value: value, raw: pair))
                }
            }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
        }
        return pairs
    }

    /// Percent-decoding with `+` as space; malformed escapes are kept literally and invalid UTF-8 is replaced.
    public static func decode(_ text: Substring) -> String {
        if !needsDecoding(text) { return String(text) }
        return String(decoding: decodedBytes(text), as: UTF8.self)
    }

    /// The same, but nil where the decoded bytes are not UTF-8.
    public static func decodeExactly(_ text: Substring) -> String? {
        if !needsDecoding(text) { return String(text) }  // nothing to decode: most click ids
        return String(validating: decodedBytes(text), as: UTF8.self)
    }

    private static func needsDecoding(_ text: Substring) -> Bool {
        text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") })
    }

    private static func decodedBytes(_ text: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = Hex.decode(Substring(decoding: iterator.prefix(2), as: UTF8.self))?.first
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// Appends a raw query component to `text`, re-encoded so that only URL-safe ASCII remains; meaning is unchanged.
    public static func appendSanitized(_ raw: Substring, to text: inout String) {
        if raw.utf8.allSatisfy(isAllowed) { return text += raw }  // nothing to re-encode: most queries
        let bytes = Array(raw.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) {
                out.append(contentsOf: bytes[index...index + 2])
                index += 3
                continue
            }
            if isAllowed(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(contentsOf: Hex.encode([byte]).uppercased().utf8)
            }
            index += 1
        }
        text += String(decoding: out, as: UTF8.self)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }

    /// RFC 3986 query characters, less `&` (the pair separator) and `'`.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$()*+,;=:@/?".utf8.contains(byte)
        }
    }
}
