import AttributionCore
import Foundation

/// How a visit's click id parameters are kept in one text column, in every database.
enum ClickParameters {
    static func encode(_ parameters: [String: String]) -> String? {
        parameters.isEmpty ? nil : JSONValue.object(parameters.mapValues(JSONValue.string)).canonicalJSON()
    }

    static func decode(_ text: String?) -> [String: String] {
        guard let text, let data = text.data(using: .utf8) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }
}
