/// Builds where a visitor is sent: always the configured destination, at most with the visit's query appended.
public enum RedirectLocation {
    /// The destination with the incoming query pairs appended (when `passthrough`), each re-encoded.
    /// Parameters the destination already sets keep the destination's value: the business's link wins.
    public static func build(destination: String, incomingQuery: Substring?, passthrough: Bool) -> String {
        guard passthrough, let incomingQuery, !incomingQuery.isEmpty else { return destination }
        let fragmentStart = destination.firstIndex(of: "#") ?? destination.endIndex
        let base = destination[..<fragmentStart]
        let fragment = destination[fragmentStart...]
        let existingQuery = base.firstIndex(of: "?").map { base[base.index(after: $0)...] } ?? ""
        let taken = Set(QueryString.parse(existingQuery).map(\.name))

        let pairs = incomingQuery.split(separator: "&").compactMap { pair -> String? in
            let name = QueryString.decode(pair.prefix { $0 != "=" })
            guard !name.isEmpty, !taken.contains(name) else { return nil }
            return QueryString.sanitize(pair)
        }
        guard !pairs.isEmpty else { return destination }
        let separator: String
        if !base.contains("?") {
            separator = "?"
        } else if base.hasSuffix("?") || base.hasSuffix("&") {
            separator = ""
        } else {
            separator = "&"
        }
        return base + separator + pairs.joined(separator: "&") + fragment
    }
}
