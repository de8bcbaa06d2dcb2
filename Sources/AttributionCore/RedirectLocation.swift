/// Where a visitor is sent: always the configured destination, at most with the visit's query appended.
/// The destination is taken apart once, when the route is configured, not on every visit.
public struct RedirectLocation: Sendable {
    public let destination: String
    private let base: Substring
    private let fragment: Substring
    private let taken: Set<String>
    private let separator: String

    public init(destination: String) {
        self.destination = destination
        let fragmentStart = destination.firstIndex(of: "#") ?? destination.endIndex
        let base = destination[..<fragmentStart]
        self.base = base
        fragment = destination[fragmentStart...]
        let existingQuery = base.firstIndex(of: "?").map { base[base.index(after: $0)...] } ?? ""
        taken = Set(QueryString.parse(existingQuery).map(\.name))
        if !base.contains("?") {
            separator = "?"
        } else if base.hasSuffix("?") || base.hasSuffix("&") {
            separator = ""
        } else {
            separator = "&"
        }
    }

    /// The destination with the incoming query pairs appended (when `passthrough`), each re-encoded.
    /// Parameters the destination already sets keep the destination's value: the business's link wins.
    public func location(incomingQuery: Substring?, passthrough: Bool) -> String {
        location(query: QueryString.parse(incomingQuery ?? ""), passthrough: passthrough)
    }

    /// The same, from a query already parsed (the landing path parses it once for the click ids too).
    public func location(query: [QueryString.Pair], passthrough: Bool) -> String {
        guard passthrough else { return destination }
        // Built in one string: this runs on every redirect.
        var location = ""
        var appended = false
        for pair in query where !taken.contains(pair.name) {
            if !appended {
                location.reserveCapacity(destination.utf8.count + query.reduce(1) { $0 + $1.raw.utf8.count + 1 })
                location += base
                location += separator
                appended = true
            } else {
                location += "&"
            }
            QueryString.appendSanitized(pair.raw, to: &location)
        }
        guard appended else { return destination }
        location += fragment
        return location
    }

    /// One-off form of `location(incomingQuery:passthrough:)`.
    public static func build(destination: String, incomingQuery: Substring?, passthrough: Bool) -> String {
        RedirectLocation(destination: destination).location(incomingQuery: incomingQuery, passthrough: passthrough)
    }
}
