/// A coding key for any name, used to list the keys a YAML mapping actually has.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws for a key the type does not know, so a typo never falls back to a default silently.
    func rejectUnknownKeys<Key: CodingKey & CaseIterable>(_: Key.Type) throws {
        let present = try container(keyedBy: AnyCodingKey.self).allKeys
        let known = Key.allCases.map(\.stringValue)
        for key in present where !known.contains(key.stringValue) {
            let path = ConfigKeyPath.render(codingPath + [key])
            throw ConfigError("unknown config key '\(path)' (known here: \(known.joined(separator: ", ")))")
        }
    }
}

extension KeyedDecodingContainer {
    func value<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// Renders a coding path the way the config file and the docs spell keys: `routes[0].mode`.
enum ConfigKeyPath {
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text
    }
}
