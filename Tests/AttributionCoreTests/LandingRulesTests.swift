import AttributionCore
import Testing

@Suite struct ClickIDTests {
    @Test func acceptsOpaqueCaseSensitiveIDsUpTo512Bytes() throws {
        #expect(try ClickID.validate("ARAkLkA8rmlF8d0x").get() == "ARAkLkA8rmlF8d0x")
        #expect(try ClickID.validate(String(repeating: "a", count: 512)).get().count == 512)
    }

    @Test func flagsEmptyOversizedAndControlCharacterIDs() {
        #expect(ClickID.validate("") == .failure(.empty))
        #expect(ClickID.validate(String(repeating: "a", count: 513)) == .failure(.tooLong))
        #expect(ClickID.validate(String(repeating: "é", count: 257)) == .failure(.tooLong))
        #expect(ClickID.validate("abc\r\nSet-Cookie: x") == .failure(.controlCharacters))
        #expect(ClickID.validate("a\u{0}b") == .failure(.controlCharacters))
    }

    @Test func extractsEveryConfiguredParameterFirstValidWins() {
        let query = QueryString.parse("fbclid=FB1&click_id=CID&click_id=SECOND&other=x")
        let found = ClickID.extract(from: query, parameters: ["click_id", "fbclid"])
        #expect(found.primary == "CID")
        #expect(found.all == ["click_id": "CID", "fbclid": "FB1"])
        #expect(found.problem == nil)

        let bad = ClickID.extract(from: QueryString.parse("click_id=%01x&fbclid=FB1"), parameters: ["click_id", "fbclid"])
        #expect(bad.primary == "FB1")
        #expect(bad.problem == .controlCharacters)
    }

    @Test func readsQueriesAsABrowserDoes() {
        let pairs = QueryString.parse("a=1&&b&=lost&c=x=y&d=caf%C3%A9+au+lait&e=%zz&f=\u{E9}&g=%FF%FE").map {
            "\($0.name)|\($0.value ?? "not UTF-8")"
        }
        #expect(pairs == ["a|1", "b|", "c|x=y", "d|caf\u{E9} au lait", "e|%zz", "f|\u{E9}", "g|not UTF-8"])
        #expect(ClickID.extract(from: QueryString.parse("click_id=%FF%FE"), parameters: ["click_id"]).problem == .notUTF8)
        #expect(ClickID.validate("a\u{85}b") == .failure(.controlCharacters))  // C1 controls too
        #expect(ClickID.validate("\u{A0}\u{1F600}") == .success("\u{A0}\u{1F600}"))
        // The bytes scanned: DEL, both ends of C1 (0xC2 0x80 and 0xC2 0x9F), and their neighbours that are not.
        for control in ["a\u{7F}", "\u{80}", "x\u{9F}y", "\u{C2}\u{80}"] {
            #expect(ClickID.validate(control) == .failure(.controlCharacters), "\(Array(control.utf8))")
        }
        for fine in ["~", "\u{BF}", "\u{C2}\u{A0}", "\u{E9}", "\u{2028}"] {
            #expect(ClickID.validate(fine) == .success(fine), "\(Array(fine.utf8))")
        }
    }

    @Test func hexOfBytesInMemoryIsTheSameAsOfASequence() {
        let bytes: [UInt8] = [0x00, 0x0F, 0x10, 0x7F, 0x80, 0xAB, 0xFF]
        #expect(bytes.withUnsafeBytes { Hex.encode($0) } == "000f107f80abff")
        #expect(bytes.withUnsafeBytes { Hex.encode($0) } == Hex.encode(bytes.lazy.map { $0 }))
        #expect([UInt8]().withUnsafeBytes { Hex.encode($0) } == "")
    }
}

@Suite struct BotClassifierTests {
    let classifier = BotClassifier()

    @Test(arguments: [
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "meta_crawler"),
        ("facebookcatalog/1.0", "meta_crawler"),
        ("meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", "meta_crawler"),
        ("WhatsApp/2.23.20.0 A", "whatsapp_preview"),
        ("WhatsApp/2.21.12.21 i", "whatsapp_preview"),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "link_preview"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "search_crawler"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "headless_browser"),
        ("curl/8.5.0", "http_library"),
        ("python-requests/2.31.0", "http_library"),
        ("", "empty_user_agent"),
        ("   ", "empty_user_agent"),
    ])
    func flagsCrawlersAndPreviews(userAgent: String, reason: String) {
        #expect(classifier.botReason(userAgent: userAgent) == reason)
    }

    @Test(arguments: [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0.33.117]",
    ])
    func letsPeopleThrough(userAgent: String) {
        #expect(classifier.botReason(userAgent: userAgent) == nil)
    }

    /// Whatever their position in the agent, the marker listed first decides: a Meta crawler that also says "bot".
    @Test func theFirstListedMarkerWinsWhereverItStands() {
        #expect(classifier.botReason(userAgent: "Mozilla/5.0 (compatible; bingbot/2.0) facebookexternalhit/1.1") == "meta_crawler")
        #expect(classifier.botReason(userAgent: "some-crawler/1.0 (+http://example.com) Googlebot") == "search_crawler")
        #expect(classifier.botReason(userAgent: "FaceBot") == "meta_crawler")  // the marker ends the agent
        #expect(classifier.botReason(userAgent: "faceb") == nil)  // a marker's start cut off by the end
    }

    @Test func aMissingAgentOrAHeadRequestIsNeverAPerson() {
        #expect(classifier.botReason(userAgent: nil) == "empty_user_agent")
        #expect(classifier.botReason(userAgent: "Mozilla/5.0 (iPhone) Safari/604.1", method: "HEAD") == "head_request")
    }
}

@Suite struct IPAnonymizerTests {
    @Test func truncatesIPv4To24AndIPv6To48ByDefault() {
        let anonymizer = IPAnonymizer()
        #expect(anonymizer.anonymize("203.0.113.77") == "203.0.113.0")
        #expect(anonymizer.anonymize("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::")
        #expect(anonymizer.anonymize("2001:DB8::1") == "2001:db8::")
        #expect(anonymizer.anonymize("::ffff:198.51.100.9") == "198.51.100.0")
        #expect(anonymizer.anonymize("::1") == "::")
        #expect(anonymizer.anonymize("fe80::1%eth0") == "fe80::")
    }

    @Test func honoursOtherPrefixesAndZeroKeepsNothing() {
        #expect(IPAnonymizer(ipv4Prefix: 16, ipv6Prefix: 32).anonymize("203.0.113.77") == "203.0.0.0")
        #expect(IPAnonymizer(ipv4Prefix: 20).anonymize("203.0.119.77") == "203.0.112.0")
        #expect(IPAnonymizer(ipv4Prefix: 32, ipv6Prefix: 128).anonymize("203.0.113.77") == "203.0.113.77")
        #expect(IPAnonymizer(ipv4Prefix: 16, ipv6Prefix: 32).anonymize("2001:db8:85a3::1") == "2001:db8::")
        #expect(IPAnonymizer(ipv4Prefix: 0, ipv6Prefix: 0).anonymize("203.0.113.77") == nil)
        #expect(IPAnonymizer(ipv4Prefix: 0, ipv6Prefix: 0).anonymize("2001:db8::1") == nil)
    }

    @Test func ignoresWhatIsNotAnAddress() {
        let anonymizer = IPAnonymizer()
        for text in ["", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.", "+1.2.3.4", "1.2.3.0004", "1::2::3", "12345::", "::g"] {
            #expect(anonymizer.anonymize(text) == nil, "\(text)")
        }
    }
}

@Suite struct RedirectLocationTests {
    let destination = "https://shop.example.com/summer?utm_source=whatsapp"

    @Test func appendsTheIncomingQueryWhenPassingThrough() {
        #expect(
            RedirectLocation.build(destination: destination, incomingQuery: "click_id=ABC&fbclid=F", passthrough: true)
                == "https://shop.example.com/summer?utm_source=whatsapp&click_id=ABC&fbclid=F")
        #expect(
            RedirectLocation.build(destination: "https://s.example/p", incomingQuery: "click_id=ABC", passthrough: true)
                == "https://s.example/p?click_id=ABC")
        #expect(
            RedirectLocation.build(destination: "https://s.example/p#top", incomingQuery: "click_id=A", passthrough: true)
                == "https://s.example/p?click_id=A#top")
    }

    @Test func keepsTheDestinationAloneWithoutPassthrough() {
        #expect(RedirectLocation.build(destination: destination, incomingQuery: "click_id=ABC", passthrough: false) == destination)
        #expect(RedirectLocation.build(destination: destination, incomingQuery: nil, passthrough: true) == destination)
    }

    @Test func theDestinationsOwnParametersWin() {
        #expect(
            RedirectLocation.build(destination: destination, incomingQuery: "utm_source=evil&click_id=A", passthrough: true)
                == "https://shop.example.com/summer?utm_source=whatsapp&click_id=A")
    }

    @Test func reencodesAnythingUnsafeForAHeader() {
        let location = RedirectLocation.build(
            destination: destination, incomingQuery: "x=%0d%0aSet-Cookie:a&y=é\"<>\r\n&z=%zz", passthrough: true)
        #expect(location == "https://shop.example.com/summer?utm_source=whatsapp&x=%0d%0aSet-Cookie:a&y=%C3%A9%22%3C%3E%0D%0A&z=%25zz")
        #expect(location.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f })
    }

    @Test func neverLeavesTheDestinationsOrigin() {
        for query in ["url=https://evil.example", "@evil.example", "#@evil.example", "/../../evil", "%2F%2Fevil.example"] {
            let location = RedirectLocation.build(destination: destination, incomingQuery: Substring(query), passthrough: true)
            #expect(location.hasPrefix(destination), "\(query) gave \(location)")
            #expect(!location.dropFirst(destination.count).contains("#"))
        }
    }
}
