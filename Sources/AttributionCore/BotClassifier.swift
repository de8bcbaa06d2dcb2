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
    private let markerBytes: [(marker: [UInt8], reason: String)]

    public init() {
        markerBytes = Self.markers.map { (Array($0.marker.utf8), $0.reason) }
    }

    /// The reason a request looks automated, or nil for a person. `method` HEAD is never a person's tap.
    public func botReason(userAgent: String?, method: String = "GET") -> String? {
        if method == "HEAD" { return "head_request" }
        guard let userAgent, !userAgent.allSatisfy(\.isWhitespace) else { return "empty_user_agent" }
        let lowered = Array(userAgent.utf8).map { byte in
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }
        // WhatsApp's preview fetcher sends a bare "WhatsApp/2.x.y" agent, unlike its in-app browser.
        if lowered.starts(with: "whatsapp/".utf8) { return "whatsapp_preview" }
        for (marker, reason) in markerBytes where Self.contains(lowered, marker) {
            return reason
        }
        return nil
    }

    private static func contains(_ text: [UInt8], _ marker: [UInt8]) -> Bool {
        guard let first = marker.first, text.count >= marker.count else { return false }
        var start = 0
        let last = text.count - marker.count
        while start <= last {
            if text[start] == first {
                var offset = 1
                while offset < marker.count && text[start + offset] == marker[offset] { offset += 1 }
                if offset == marker.count { return true }
            }
            start += 1
        }
        return false
    }
}
