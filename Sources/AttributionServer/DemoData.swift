import AttributionCore
import AttributionStore
import Foundation
import Logging

/// `clickattr demo`: fills an empty database with two weeks of simulated traffic, through the same paths real
/// traffic takes (webhook bodies in Meta's format parsed by the ingest path, visits classified by the bot
/// classifier, conversions resolved through the visitor id), so that the dashboard and reports have something
/// real to show. The same seed gives the same data (relative to the day it is run).
public enum DemoData {
    /// What was stored, for the command's closing line.
    public struct Totals: Sendable, Equatable {
        public var clicks = 0
        public var deliveries = 0
        public var redeliveries = 0
        public var visits = 0
        public var botVisits = 0
        public var orphanVisits = 0
        public var landingPageViews = 0
        public var conversions = 0
        public var repeatedConversions = 0
    }

    struct Account {
        let wabaID: String
        let phoneNumberID: String
        let displayNumber: String
        let currency: String
    }

    static let accounts = [
        Account(wabaID: "102290129340398", phoneNumberID: "106540352242922", displayNumber: "15550783881", currency: "EUR"),
        Account(wabaID: "118577360225512", phoneNumberID: "127439858261337", displayNumber: "5511955501234", currency: "BRL"),
    ]
    /// Product ids with their price in micros and how often they are clicked.
    static let products: [(id: String, priceMicros: Int64, weight: Double)] = [
        ("sku_summer_dress", 59_900_000, 0.30), ("sku_linen_shirt", 39_500_000, 0.24), ("sku_sandals", 29_990_000, 0.18),
        ("sku_sun_hat", 19_000_000, 0.15), ("sku_beach_bag", 44_000_000, 0.13),
    ]
    static let humanAgents = [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    ]
    static let botAgents = [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "WhatsApp/2.24.6.77 A",
        "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
        "Mozilla/5.0 (compatible; Slackbot-LinkExpanding 1.0; +https://api.slack.com/robots)",
    ]

    /// Fills the configured database, which must hold nothing yet.
    public static func run(config: ClickattrConfig, seed: UInt64, now: Int64 = Clock.milliseconds()) async throws -> Totals {
        let store = try makeStore(config: config)
        try await prepare(store, config: config)
        let counts = try await store.counts()
        let rows = counts.deliveries + counts.userActions + counts.visits + counts.conversions
        guard rows == 0 else {
            throw UsageError(
                "the database already holds data (\(counts.userActions) actions, \(counts.visits) visits, \(counts.conversions) conversions); demo fills only an empty one: point storage.sqlite.path (or storage.postgres.url) at a new database")
        }
        var generator = DemoGenerator(seed: seed, now: now, config: config)
        generator.simulate()
        try await generator.store(into: store)
        return generator.totals
    }
}

/// SplitMix64: small, fast and the same on every platform, so a seed always gives the same data.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The simulation: campaign sends, the clicks they draw, the visits, previews, orphans, landing page views and
/// conversions that follow, each at a believable time.
struct DemoGenerator {
    private struct Click {
        let clickID: String
        let trackingToken: String
        /// The moment of the tap; Meta reports it to the second.
        let tappedAt: Int64
        let account: DemoData.Account
        let product: (id: String, priceMicros: Int64, weight: Double)
        let component: String
        let slug: String
        let landing: Bool
    }

    private var random: SplitMix64
    private let now: Int64
    private let window: Int64
    private let routes: [(slug: String, landing: Bool)]
    private let anonymizer: IPAnonymizer
    private var clicks: [Click] = []
    private var actions: [(at: Int64, account: DemoData.Account, json: String)] = []
    private var visits: [Visit] = []
    private var conversions: [Conversion] = []
    private(set) var totals = DemoData.Totals()

    init(seed: UInt64, now: Int64, config: ClickattrConfig) {
        random = SplitMix64(seed: seed)
        self.now = now
        window = config.attribution.windowMilliseconds
        let configured = config.routes.map { (slug: $0.slug, landing: $0.mode == .landing) }
        routes = configured.isEmpty ? [("summer-sale", false), ("catalogue", true)] : configured
        anonymizer = IPAnonymizer(ipv4Prefix: config.privacy.ipv4Prefix, ipv6Prefix: config.privacy.ipv6Prefix)
    }

    mutating func simulate() {
        let today = now.floorDivided(by: 86_400_000).quotient
        for day in (today - 13)...today {
            // One or two campaign sends a day, between 08:00 and 19:00 UTC, each drawing a few hundred taps.
            let sends = random.nextBool(0.45) ? 2 : 1
            for _ in 0..<sends {
                let sentAt = day * 86_400_000 + Int64(random.next(in: 8...18)) * 3_600_000 + Int64(random.next(in: 0...59)) * 60_000
                let audience = random.next(in: 150...420)
                let campaign = random.token(6)
                for index in 0..<audience {
                    // Most taps come within the first hour; a tail comes back hours later.
                    let delay = Int64(random.exponential(mean: random.nextBool(0.85) ? 1_800_000 : 10_800_000))
                    let tappedAt = sentAt + 5_000 + delay
                    // Each tap draws from a generator of its own, so that what "now" cuts off changes nothing else.
                    var own = SplitMix64(seed: random.next())
                    guard tappedAt < now - 60_000 else { continue }
                    tap(at: tappedAt, campaign: campaign, index: index, random: &own)
                }
            }
        }
        orphans(today: today)
    }

    private mutating func tap(at tappedAt: Int64, campaign: String, index: Int, random: inout SplitMix64) {
        let account = DemoData.accounts[random.nextBool(0.6) ? 0 : 1]
        let product = random.weighted(DemoData.products, weight: \.weight)
        let route = routes[random.nextBool(0.65) || routes.count == 1 ? 0 : 1 + random.next(in: 0...(routes.count - 2))]
        let click = Click(
            clickID: random.token(16), trackingToken: "tt_\(campaign)_\(index)", tappedAt: tappedAt, account: account,
            product: product, component: random.nextBool(0.72) ? "cta" : "body", slug: route.slug, landing: route.landing)
        clicks.append(click)
        totals.clicks += 1
        let clickedAt = tappedAt / 1000 * 1000
        actions.append(
            (clickedAt, account,
             #"{"action_type":"marketing_messages_link_click","timestamp":"\#(clickedAt / 1000)","marketing_messages_link_click_data":{"click_component":"\#(click.component)","product_id":"\#(product.id)","click_id":"\#(click.clickID)","tracking_token":"\#(click.trackingToken)"}}"#))

        // A link preview or crawler fetches the link for one tap in ten, with the click id, at once.
        if random.nextBool(0.10) {
            let agent = random.element(DemoData.botAgents)
            let method = random.nextBool(0.3) ? "HEAD" : "GET"
            visit(click, at: tappedAt + Int64(random.next(in: 80...1_500)), agent: agent, method: method, visitor: nil, random: &random)
        }
        // Three taps in four reach the page: a few hundred milliseconds to minutes later, with a long tail.
        guard random.nextBool(0.76) else { return }
        var latency = Int64(random.logNormal(median: 2_800, sigma: 1.15))
        if random.nextBool(0.04) { latency += Int64(random.exponential(mean: 5_400_000)) }  // came back later
        if random.nextBool(0.012) { latency = window + Int64(random.next(in: 3_600_000...86_400_000)) }  // far too late
        latency = max(latency, 180)
        // The page loads before the second Meta stamps the tap with has ended: a visit before its webhook's time.
        var visitedAt = tappedAt + latency
        if random.nextBool(0.03) { visitedAt = clickedAt - Int64(random.next(in: 1...900)) }
        guard visitedAt < now else { return }
        let visitor = random.hex(32)
        visit(click, at: visitedAt, agent: random.element(DemoData.humanAgents), method: "GET", visitor: visitor, random: &random)
        if random.nextBool(0.12) {
            let again = visitedAt + Int64(random.exponential(mean: 1_200_000))
            let agent = random.element(DemoData.humanAgents)
            if again < now { visit(click, at: again, agent: agent, method: "GET", visitor: visitor, random: &random) }
        }
        // Meta reports a landing page view for most visits to a landing page.
        if click.landing, random.nextBool(0.85) {
            let viewedAt = (visitedAt + Int64(random.next(in: 900...4_000))) / 1000 * 1000
            if viewedAt < now {
                actions.append(
                    (viewedAt, account,
                     #"{"action_type":"landing_page_view","timestamp":\#(viewedAt / 1000),"marketing_messages_link_click_data":{"click_id":"\#(click.clickID)","tracking_token":"\#(click.trackingToken)"}}"#))
                totals.landingPageViews += 1
            }
        }
        // About one visitor in nine buys, minutes later; the shop reports some by click id, some only by visitor.
        if random.nextBool(0.11) {
            let boughtAt = visitedAt + Int64(random.next(in: 120_000...2_400_000))
            guard boughtAt < now else { return }
            let quantity = random.nextBool(0.2) ? 2 : 1
            let rate: Int64 = click.account.currency == "BRL" ? 5 : 1
            let conversion = Conversion(
                event: "purchase", clickID: random.nextBool(0.8) ? click.clickID : nil, visitorID: visitor,
                valueMicros: click.product.priceMicros * Int64(quantity) * rate, currency: click.account.currency,
                orderID: "ORD-\(random.next(in: 100_000...999_999))", occurredAt: boughtAt,
                source: random.nextBool(0.7) ? .api : .postback)
            conversions.append(conversion)
            totals.conversions += 1
            // A shop's retry posts the same order again: stored once.
            if random.nextBool(0.06) {
                conversions.append(conversion)
                totals.repeatedConversions += 1
            }
        } else if random.nextBool(0.03) {
            conversions.append(
                Conversion(
                    event: "lead", clickID: click.clickID, visitorID: visitor, valueMicros: nil, currency: nil,
                    orderID: "LEAD-\(random.hex(10))", occurredAt: min(visitedAt + 90_000, now - 1), source: .api))
            totals.conversions += 1
        }
    }

    private mutating func visit(
        _ click: Click, at visitedAt: Int64, agent: String, method: String, visitor: String?, random: inout SplitMix64
    ) {
        let path = "/\(click.slug)"
        let botReason = BotClassifier().botReason(userAgent: agent, method: method)
        visits.append(
            Visit(
                visitedAt: visitedAt, method: method, path: path, slug: click.slug, clickID: click.clickID,
                clickParameters: ["click_id": click.clickID], clickIDProblem: nil, visitorID: visitor,
                userAgent: agent, referrer: nil, ip: anonymizer.anonymize(random.address()), botReason: botReason))
        totals.visits += 1
        if botReason != nil { totals.botVisits += 1 }
    }

    /// Visits with click ids Meta never reported (a forwarded link, a copied URL) and some without any.
    private mutating func orphans(today: Int64) {
        for _ in 0..<(clicks.count / 40) {
            var random = SplitMix64(seed: self.random.next())
            let visitedAt = (today - 13) * 86_400_000 + Int64(random.next(in: 0...(13 * 86_400_000)))
            guard visitedAt < now else { continue }
            let route = random.element(routes)
            let clickID = random.nextBool(0.8) ? random.token(16) : nil
            visits.append(
                Visit(
                    visitedAt: visitedAt, method: "GET", path: "/\(route.slug)", slug: route.slug, clickID: clickID,
                    clickParameters: clickID.map { ["click_id": $0] } ?? [:], clickIDProblem: nil,
                    visitorID: random.hex(32), userAgent: random.element(DemoData.humanAgents), referrer: nil,
                    ip: anonymizer.anonymize(random.address()), botReason: nil))
            totals.visits += 1
            if clickID != nil { totals.orphanVisits += 1 }
        }
    }

    /// Stores the simulated traffic: the webhook's deliveries (30 s of actions each, a few delivered twice),
    /// then the visits, then the conversions.
    mutating func store(into store: any Store) async throws {
        actions.sort { $0.at < $1.at }
        var deliveries: [WebhookDelivery] = []
        var start = 0
        while start < actions.count {
            let first = actions[start]
            var end = start + 1
            while end < actions.count, end - start < 50, actions[end].at < first.at + 30_000,
                actions[end].account.wabaID == first.account.wabaID
            {
                end += 1
            }
            let account = first.account
            let body = #"{"object":"whatsapp_business_account","entry":[{"id":"\#(account.wabaID)","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"\#(account.displayNumber)","phone_number_id":"\#(account.phoneNumberID)"},"user_actions":[\#(actions[start..<end].map(\.json).joined(separator: ","))]},"field":"messages"}]}]}"#
            let receivedAt = actions[end - 1].at + Int64(random.next(in: 400...3_000))
            let ingestor = WebhookIngestor(store: store, logger: Logger(label: "clickattr.demo"), now: { receivedAt })
            let prepared = try ingestor.prepare(body: Array(body.utf8), source: .http)
            deliveries.append(prepared.delivery)
            totals.deliveries += 1
            // Meta redelivers a few bodies it saw no answer for: stored once.
            if random.nextBool(0.02) {
                deliveries.append(prepared.delivery)
                totals.redeliveries += 1
            }
            start = end
        }
        for batch in deliveries.chunked(200) { _ = try await store.ingest(Array(batch)) }
        visits.sort { $0.visitedAt < $1.visitedAt }
        for batch in visits.chunked(1_000) { try await store.recordVisits(Array(batch)) }
        for conversion in conversions.sorted(by: { $0.occurredAt < $1.occurredAt }) {
            _ = try await store.recordConversion(conversion, receivedAt: conversion.occurredAt + 1_500, lookback: window)
        }
    }
}

extension SplitMix64 {
    mutating func token(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet[next(in: 0...(alphabet.count - 1))] })
    }

    mutating func hex(_ length: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<length).map { _ in digits[next(in: 0...15)] })
    }

    mutating func address() -> String {
        "\(element([81, 177, 189, 201, 94])).\(next(in: 0...255)).\(next(in: 0...255)).\(next(in: 1...254))"
    }

    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A uniform draw in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    mutating func nextBool(_ probability: Double) -> Bool {
        unit() < probability
    }

    mutating func exponential(mean: Double) -> Double {
        -mean * log(1 - unit())
    }

    /// Log-normal around `median`, by Box-Muller.
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        let normal = sqrt(-2 * log(1 - unit())) * cos(2 * Double.pi * unit())
        return median * exp(sigma * normal)
    }

    mutating func element<T>(_ items: [T]) -> T {
        items[next(in: 0...(items.count - 1))]
    }

    mutating func weighted<T>(_ items: [T], weight: (T) -> Double) -> T {
        let total = items.reduce(0) { $0 + weight($1) }
        var point = unit() * total
        for item in items {
            point -= weight(item)
            if point < 0 { return item }
        }
        return items[items.count - 1]
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
