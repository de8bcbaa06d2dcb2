import AttributionCore

/// One pass over the clicks of a range feeding several summaries at once (the dashboard's totals, days and
/// breakdowns), so every figure on the page comes from the same reading of the data as `report summary`.
struct SummaryPass {
    private(set) var reports: [SummaryReport]
    let windowMilliseconds: Int64

    init(groupings: [[SummaryReport.Key]], windowMilliseconds: Int64) {
        reports = groupings.map(SummaryReport.init(keys:))
        self.windowMilliseconds = windowMilliseconds
    }

    mutating func add(_ click: SummaryReport.Click) {
        for index in reports.indices { reports[index].add(click) }
    }

    mutating func addOrphanVisits(_ count: Int, day: Int64, slug: String?) {
        for index in reports.indices { reports[index].addOrphanVisits(count, visitedAt: day * 86_400_000, slug: slug) }
    }

    /// Adds the counts of another slice of the range.
    mutating func merge(_ other: SummaryPass) {
        for index in reports.indices { reports[index].merge(other.reports[index]) }
    }
}

/// The conversions that can count for the clicks of a range, by click id: a click's conversions are those from
/// 1 s before it (the webhook's resolution) to the end of its window, as `report clicks` counts them.
struct ConversionsByClick {
    private var byClick: [String: [(occurredAt: Int64, currency: String?, micros: Int64?)]] = [:]

    /// The range of conversion times to read for clicks in `from..<to`.
    static func times(clicksFrom from: Int64, to: Int64, windowMilliseconds: Int64) -> ClosedRange<Int64> {
        let low = from.subtractingReportingOverflow(1000)
        let high = (to == Int64.min ? to : to - 1).addingReportingOverflow(windowMilliseconds)
        return (low.overflow ? Int64.min : low.partialValue)...(high.overflow ? Int64.max : high.partialValue)
    }

    mutating func add(clickID: String, occurredAt: Int64, currency: String?, micros: Int64?) {
        byClick[clickID, default: []].append((occurredAt, currency, micros))
    }

    /// How many conversions count for the click, and the sum of the valued ones per currency, sorted by currency.
    func tally(clickID: String, clickedAt: Int64, windowMilliseconds: Int64) -> ConversionTally {
        var tally = ConversionTally(nil)
        guard let conversions = byClick[clickID] else { return tally }
        var sums: [String: Money.Sum] = [:]
        for conversion in conversions
        where conversion.occurredAt >= clickedAt - 1000 && conversion.occurredAt <= clickedAt + windowMilliseconds {
            tally.count += 1
            if let micros = conversion.micros { sums[conversion.currency ?? "", default: 0] += Money.Sum(micros) }
        }
        tally.values = sums.sorted { $0.key < $1.key }.map { (currency: $0.key.isEmpty ? nil : $0.key, micros: $0.value) }
        return tally
    }
}

/// A click's visits as they are read, one at a time: its bot visits and its first human visit.
struct VisitFold {
    private(set) var botVisits = 0
    private(set) var first: (visitedAt: Int64, id: Int64, slug: String?)?

    mutating func add(id: Int64, isBot: Bool, visitedAt: Int64, slug: @autoclosure () -> String?) {
        if isBot {
            botVisits += 1
        } else if first.map({ (visitedAt, id) < ($0.visitedAt, $0.id) }) ?? true {
            first = (visitedAt, id, slug())
        }
    }
}
