/// Reads and rewrites the query part of a URL without trusting a byte of it.
public enum QueryString {
    /// Decoded name/value pairs in order, as a browser's URLSearchParams would read them.
    public static func parse(_ raw: Substring) -> [(name: String, value: String)] {
        pairs(raw).compactMap { pair in
            let name = decode(pair.name)
            guard !name.isEmpty else { return nil }
            return (name, decode(pair.value ?? ""))
        }
    }

    /// The raw `name=value` pairs, split on bytes (`&` and `=` are ASCII), empty pairs left out.
    static func pairs(_ raw: Substring) -> [(name: Substring, value: Substring?, pair: Substring)] {
        raw.utf8.split(separator: UInt8(ascii: "&")).map { bytes in
            let pair = Substring(bytes)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return (pair, nil, pair) }
            return (pair[..<equals], pair[pair.utf8.index(after: equals)...], pair)
        }
    }

    /// Percent-decoding with `+` as space; malformed escapes are kept literally and invalid UTF-8 is replaced.
    public static func decode(_ text: Substring) -> String {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return String(text)  // nothing to decode: most click ids
        }
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
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Re-encodes a raw query component so that only URL-safe ASCII remains; meaning is unchanged.
    public static func sanitize(_ raw: Substring) -> String {
        if raw.utf8.allSatisfy(isAllowed) { return String(raw) }  // nothing to re-encode: most queries
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
        return String(decoding: out, as: UTF8.self)
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
