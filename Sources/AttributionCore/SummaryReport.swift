import Foundation

/// `report summary`: click rows folded into groups (by day, product, component, slug, WABA), plus orphan visits.
public struct SummaryReport: Sendable {
    /// A dimension to group by.
    public enum Key: String, Sendable, CaseIterable {
        case day
        case productID = "product_id"
        case clickComponent = "click_component"
        case slug
        case wabaID = "waba_id"
    }

    public static let measureColumns = [
        "clicks", "visited_clicks", "visit_rate", "orphan_visits", "bot_visits", "p50_click_to_visit_ms",
        "p90_click_to_visit_ms", "p99_click_to_visit_ms", "conversions", "conversion_rate", "conversion_value",
    ]

    /// Parses `day,product_id`; nil names the bad key.
    public static func keys(_ text: String?) -> Result<[Key], KeyError> {
        guard let text, !text.isEmpty else { return .success([]) }
        var keys: [Key] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let key = Key(rawValue: name) else { return .failure(KeyError(name: name)) }
            if !keys.contains(key) { keys.append(key) }
        }
        return .success(keys)
    }

    /// A group-by key that does not exist.
    public struct KeyError: Error, Equatable {
        public let name: String
    }

    /// What the summary counts of one click: its dimensions, its first human visit, bot visits and conversions.
    public struct Click: Sendable {
        public var clickedAt: Int64
        public var clickComponent: String?
        public var productID: String?
        public var wabaID: String?
        /// The route of the first human visit.
        public var slug: String?
        public var firstVisitAt: Int64?
        public var botVisits: Int
        public var conversions: Int
        public var conversionValues: [(currency: String?, micros: Money.Sum)]
        public var status: ClickReportRow.Status

        public init(
            clickedAt: Int64, clickComponent: String?, productID: String?, wabaID: String?, slug: String?,
            firstVisitAt: Int64?, botVisits: Int, conversions: Int,
            conversionValues: [(currency: String?, micros: Money.Sum)], status: ClickReportRow.Status
        ) {
            self.clickedAt = clickedAt
            self.clickComponent = clickComponent
            self.productID = productID
            self.wabaID = wabaID
            self.slug = slug
            self.firstVisitAt = firstVisitAt
            self.botVisits = botVisits
            self.conversions = conversions
            self.conversionValues = conversionValues
            self.status = status
        }
    }

    private struct Totals {
        var clicks = 0
        var visitedClicks = 0
        var orphanVisits = 0
        var botVisits = 0
        var latencies = LatencyHistogram()
        var conversions = 0
        var convertedClicks = 0
        var values: [String?: Money.Sum] = [:]

        mutating func merge(_ other: Totals) {
            clicks += other.clicks
            visitedClicks += other.visitedClicks
            orphanVisits += other.orphanVisits
            botVisits += other.botVisits
            latencies.merge(other.latencies)
            conversions += other.conversions
            convertedClicks += other.convertedClicks
            values.merge(other.values, uniquingKeysWith: +)
        }
    }

    public let keys: [Key]
    private var groups: [[String?]: Totals] = [:]
    /// The last day formatted: clicks come in time order, so nearly every click reuses it.
    private var lastDay: (number: Int64, label: String) = (.min, "")

    /// Whether the groups keep a histogram of latencies; without, their percentiles read empty and a summary of
    /// many groups or parts stays small (the dashboard shows percentiles of its totals only).
    public let keepsLatencies: Bool

    public init(keys: [Key], keepsLatencies: Bool = true) {
        self.keys = keys
        self.keepsLatencies = keepsLatencies
    }

    /// An empty summary with the same keys and histogram choice.
    public var empty: SummaryReport { SummaryReport(keys: keys, keepsLatencies: keepsLatencies) }

    public var columns: [String] { keys.map(\.rawValue) + Self.measureColumns }

    public mutating func add(_ click: Click) {
        let group = keys.map { key -> String? in
            switch key {
            case .day: dayLabel(click.clickedAt)
            case .productID: click.productID
            case .clickComponent: click.clickComponent
            case .slug: click.slug
            case .wabaID: click.wabaID
            }
        }
        // Mutated in place: taking the totals out would copy their histogram for every click.
        Self.update(&groups[group, default: Totals()], with: click, latencies: keepsLatencies)
    }

    private mutating func dayLabel(_ milliseconds: Int64) -> String {
        let number = milliseconds.floorDivided(by: 86_400_000).quotient
        if number != lastDay.number { lastDay = (number, String(Timestamp.format(milliseconds).prefix(10))) }
        return lastDay.label
    }

    private static func update(_ totals: inout Totals, with click: Click, latencies: Bool) {
        totals.clicks += 1
        totals.botVisits += click.botVisits
        if click.status == .visited, let first = click.firstVisitAt {
            totals.visitedClicks += 1
            if latencies { totals.latencies.add(first - click.clickedAt) }
        }
        totals.conversions += click.conversions
        if click.conversions > 0 { totals.convertedClicks += 1 }
        for (currency, micros) in click.conversionValues {
            totals.values[currency, default: 0] += micros
        }
    }

    /// Orphan visits count toward the group of their own day and slug; other keys are empty for them.
    public mutating func addOrphanVisits(_ count: Int, visitedAt: Int64, slug: String?) {
        let group = keys.map { key -> String? in
            switch key {
            case .day: dayLabel(visitedAt)
            case .slug: slug
            case .productID, .clickComponent, .wabaID: nil
            }
        }
        groups[group, default: Totals()].orphanVisits += count
    }

    /// Adds the counts of `other`, a summary of other clicks with the same keys (another slice of the range).
    public mutating func merge(_ other: SummaryReport) {
        precondition(other.keys == keys, "only summaries with the same keys merge")
        for (group, totals) in other.groups {
            groups[group, default: Totals()].merge(totals)
        }
    }

    /// The conversion value of one group per currency (nil: conversions without one), sorted by currency: the
    /// report's `conversion_value` names the currency only when there are several, a page always does.
    public func conversionValues(group: [String?]) -> [(currency: String?, micros: Money.Sum)] {
        (groups[group]?.values ?? [:]).sorted { ($0.key ?? "") < ($1.key ?? "") }.map { (currency: $0.key, micros: $0.value) }
    }

    /// The click-to-visit latencies of the visited clicks of one group (the values of its keys, in order).
    public func latencies(group: [String?]) -> LatencyHistogram {
        groups[group]?.latencies ?? LatencyHistogram()
    }

    /// The rows, sorted by their keys (empty keys first); a single row of totals without keys.
    public var rows: [[ReportCell]] {
        if groups.isEmpty && keys.isEmpty { return [cells(group: [], Totals())] }
        return groups.keys.sorted { lhs, rhs in
            for (l, r) in zip(lhs, rhs) where l != r { return (l ?? "") < (r ?? "") || (l == nil && r != nil) }
            return false
        }.map { cells(group: $0, groups[$0]!) }
    }

    private func cells(group: [String?], _ totals: Totals) -> [ReportCell] {
        func rate(_ part: Int, _ whole: Int) -> ReportCell { .ratio(whole == 0 ? nil : Double(part) / Double(whole)) }
        let values = totals.values.sorted { ($0.key ?? "") < ($1.key ?? "") }.map { (currency: $0.key, micros: $0.value) }
        let valueText = Money.describe(values)
        return group.map { ReportCell.text($0) } + [
            .number(Int64(totals.clicks)), .number(Int64(totals.visitedClicks)),
            rate(totals.visitedClicks, totals.clicks), .number(Int64(totals.orphanVisits)),
            .number(Int64(totals.botVisits)), .number(totals.latencies.value(atPercentile: 50)),
            .number(totals.latencies.value(atPercentile: 90)), .number(totals.latencies.value(atPercentile: 99)),
            .number(Int64(totals.conversions)), rate(totals.convertedClicks, totals.clicks), .text(valueText),
        ]
    }
}
