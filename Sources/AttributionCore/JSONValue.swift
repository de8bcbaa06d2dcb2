import Foundation

/// Any JSON value, kept losslessly enough to re-encode a webhook action with its unknown fields.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number as it was written (a valid JSON number): ids that arrive as numbers keep their text, and no
    /// value, however large, is converted on the way in.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A scalar as text: ids arrive as strings or numbers depending on the sender; a number keeps its own text.
    public var scalarText: String? {
        switch self {
        case .string(let value): return value
        case .number(let text): return text
        case .bool(let value): return String(value)
        case .null, .array, .object: return nil
        }
    }

    /// A whole number that fits in 64 bits, written without fraction or exponent.
    public static func integer(_ value: Int64) -> JSONValue { .number(String(value)) }

    /// Compact JSON with sorted keys: equal values always give equal bytes.
    public func canonicalJSON() -> String {
        String(decoding: canonicalBytes(), as: UTF8.self)
    }

    /// `canonicalJSON()` as UTF-8 bytes, for hashing without a detour through `String`.
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// `canonicalJSON()` of an object whose values are all strings, written without building the `JSONValue`:
    /// every shipped visit's click id parameters are one.
    public static func canonicalJSON(ofStrings fields: [String: String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        out.append(UInt8(ascii: "{"))
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            writeString(fields[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: Self.canonicalNumber(text).utf8)
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                fields[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// One spelling per value where a 64-bit integer or a finite double holds it (`1E3` and `1000.0` agree, as
    /// action keys have always assumed); a number beyond a double's range keeps its own text, which is valid JSON.
    static func canonicalNumber(_ text: String) -> String {
        if let integer = Int64(text) { return String(integer) }
        if let double = Double(text), double.isFinite { return String(double) }
        return text
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        writeString(utf8: text.utf8, to: &out)
    }

    /// A string's UTF-8 bytes as `canonicalJSON()` writes a string value (quoted, escaped).
    public static func writeString(utf8: some Collection<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (ids, tokens, names) need no escape: copy them whole.
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(contentsOf: Hex.encode([byte]).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
