/// Tells crawlers and link-preview fetchers from people by user agent.
public struct BotClassifier: Sendable {
    /// Substrings (lower case) that never occur in a person's browser.
    static let markers: [(marker: String, reason: String)] = [
        ("facebookexternalhit", "meta_crawler"),
        ("facebookcatalog", "meta_crawler"),
        ("meta-externalagent", "meta_crawler"),
        ("meta-externalfetcher", "meta_crawler"),
        ("facebot", "meta_crawler"),
        ("slackbot", "link_preview"),
        ("slack-imgproxy", "link_preview"),
        ("twitterbot", "link_preview"),
        ("telegrambot", "link_preview"),
        ("discordbot", "link_preview"),
        ("linkedinbot", "link_preview"),
        ("skypeuripreview", "link_preview"),
        ("pinterestbot", "link_preview"),
        ("redditbot", "link_preview"),
        ("embedly", "link_preview"),
        ("iframely", "link_preview"),
        ("googlebot", "search_crawler"),
        ("google-inspectiontool", "search_crawler"),
        ("adsbot-google", "search_crawler"),
        ("mediapartners-google", "search_crawler"),
        ("bingbot", "search_crawler"),
        ("bingpreview", "search_crawler"),
        ("applebot", "search_crawler"),
        ("yandex", "search_crawler"),
        ("baiduspider", "search_crawler"),
        ("duckduckbot", "search_crawler"),
        ("petalbot", "search_crawler"),
        ("ahrefsbot", "search_crawler"),
        ("semrushbot", "search_crawler"),
        ("mj12bot", "search_crawler"),
        ("dotbot", "search_crawler"),
        ("headlesschrome", "headless_browser"),
        ("phantomjs", "headless_browser"),
        ("puppeteer", "headless_browser"),
        ("playwright", "headless_browser"),
        ("selenium", "headless_browser"),
        ("lighthouse", "headless_browser"),
        ("chrome-lighthouse", "headless_browser"),
        ("curl/", "http_library"),
        ("wget/", "http_library"),
        ("python-requests", "http_library"),
        ("python-urllib", "http_library"),
        ("aiohttp", "http_library"),
        ("go-http-client", "http_library"),
        ("java/", "http_library"),
        ("apache-httpclient", "http_library"),
        ("libwww-perl", "http_library"),
        ("node-fetch", "http_library"),
        ("axios/", "http_library"),
        ("crawler", "generic_bot"),
        ("spider", "generic_bot"),
        ("scraper", "generic_bot"),
        ("bot/", "generic_bot"),
        ("bot;", "generic_bot"),
        ("bot)", "generic_bot"),
        ("+http", "generic_bot"),
    ]

    /// The markers as bytes: this runs on every visit, and Foundation's `String.contains` was its cost.
    private let markerBytes: [[UInt8]]
    /// For each byte value, the markers that start with it (by position in `markers`), so one pass over the
    /// user agent compares each byte with a few markers rather than with all of them.
    private let markersByFirstByte: [[Int]]

    public init() {
        markerBytes = Self.markers.map { Array($0.marker.utf8) }
        var table = [[Int]](repeating: [], count: 256)
        for (index, marker) in markerBytes.enumerated() { table[Int(marker[0])].append(index) }
        markersByFirstByte = table
    }

    /// The reason a request looks automated, or nil for a person. `method` HEAD is never a person's tap.
    public func botReason(userAgent: String?, method: String = "GET") -> String? {
        if method == "HEAD" { return "head_request" }
        guard let userAgent, !userAgent.unicodeScalars.allSatisfy(\.properties.isWhitespace) else {
            return "empty_user_agent"
        }
        let lowered = userAgent.utf8.map { byte in
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }
        // WhatsApp's preview fetcher sends a bare "WhatsApp/2.x.y" agent, unlike its in-app browser.
        if lowered.starts(with: "whatsapp/".utf8) { return "whatsapp_preview" }
        // Of all markers present, the one listed first decides, wherever it occurs.
        var found = Int.max
        for start in lowered.indices {
            for index in markersByFirstByte[Int(lowered[start])] where index < found {
                if Self.matches(lowered, at: start, markerBytes[index]) { found = index }
            }
        }
        return found == Int.max ? nil : Self.markers[found].reason
    }

    private static func matches(_ text: [UInt8], at start: Int, _ marker: [UInt8]) -> Bool {
        guard text.count - start >= marker.count else { return false }
        var offset = 1
        while offset < marker.count && text[start + offset] == marker[offset] { offset += 1 }
        return offset == marker.count
    }
}
