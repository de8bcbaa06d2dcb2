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

    private struct Totals {
        var clicks = 0
        var visitedClicks = 0
        var orphanVisits = 0
        var botVisits = 0
        var latencies = LatencyHistogram()
        var conversions = 0
        var convertedClicks = 0
        var values: [String?: Int64] = [:]
    }

    public let keys: [Key]
    private var groups: [[String?]: Totals] = [:]

    public init(keys: [Key]) {
        self.keys = keys
    }

    public var columns: [String] { keys.map(\.rawValue) + Self.measureColumns }

    public mutating func add(_ row: ClickReportRow) {
        let group = keys.map { key -> String? in
            switch key {
            case .day: String(Timestamp.format(row.clickedAt).prefix(10))
            case .productID: row.productID
            case .clickComponent: row.clickComponent
            case .slug: row.slug
            case .wabaID: row.wabaID
            }
        }
        // Mutated in place: taking the totals out would copy their histogram for every row.
        Self.update(&groups[group, default: Totals()], with: row)
    }

    private static func update(_ totals: inout Totals, with row: ClickReportRow) {
        totals.clicks += 1
        totals.botVisits += row.botVisits
        if row.status == .visited, let latency = row.clickToVisitMilliseconds {
            totals.visitedClicks += 1
            totals.latencies.add(latency)
        }
        totals.conversions += row.conversions
        if row.conversions > 0 { totals.convertedClicks += 1 }
        for (currency, micros) in row.conversionValues {
            totals.values[currency, default: 0] += micros
        }
    }

    /// Orphan visits count toward the group of their own day and slug; other keys are empty for them.
    public mutating func addOrphanVisits(_ count: Int, visitedAt: Int64, slug: String?) {
        let group = keys.map { key -> String? in
            switch key {
            case .day: String(Timestamp.format(visitedAt).prefix(10))
            case .slug: slug
            case .productID, .clickComponent, .wabaID: nil
            }
        }
        groups[group, default: Totals()].orphanVisits += count
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
