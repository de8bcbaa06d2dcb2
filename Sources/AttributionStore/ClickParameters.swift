import AttributionCore
import Foundation

/// How a visit's click id parameters are kept in one text column, in every database.
enum ClickParameters {
    static func encode(_ parameters: [String: String]) -> String? {
        guard !parameters.isEmpty else { return nil }
        // Written by hand: this runs for every visit on the single writer, where JSONEncoder was the cost.
        var json = "{"
        for (index, key) in parameters.keys.sorted().enumerated() {
            if index > 0 { json += "," }
            json += quoted(key) + ":" + quoted(parameters[key]!)
        }
        return json + "}"
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func decode(_ text: String?) -> [String: String] {
        guard let text, let data = text.data(using: .utf8) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }
}
