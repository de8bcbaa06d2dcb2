import AttributionCore

/// How a visit's click id parameters are kept in one text column, in every database.
enum ClickParameters {
    static func encode(_ parameters: [String: String]) -> String? {
        parameters.isEmpty ? nil : JSONValue.canonicalJSON(ofStrings: parameters)
    }

    static func decode(_ text: String?) -> [String: String] {
        guard let text, case .object(let fields)? = try? JSONParser.parse(Array(text.utf8)) else { return [:] }
        return fields.compactMapValues { value in
            if case .string(let text) = value { return text }
            return nil
        }
    }
}
