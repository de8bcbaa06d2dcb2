import AttributionCore

/// One pass over the clicks of a range feeding several summaries at once (the dashboard's totals, days and
/// breakdowns), so every figure on the page comes from the same reading of the data as `report summary`.
/// With `partMilliseconds`, each part of the range (an hour, say) gets summaries of its own: clicks by their time,
/// orphan visits by theirs.
struct SummaryPass {
    /// Empty summaries, one per grouping, that each part starts from.
    let templates: [SummaryReport]
    let partMilliseconds: Int64?
    private(set) var parts: [Int64: [SummaryReport]] = [:]

    init(templates: [SummaryReport], partMilliseconds: Int64?) {
        self.templates = templates.map(\.empty)
        self.partMilliseconds = partMilliseconds
    }

    private func part(_ milliseconds: Int64) -> Int64 {
        partMilliseconds.map { milliseconds.floorDivided(by: $0).quotient } ?? 0
    }

    private mutating func reports(_ part: Int64) {
        if parts[part] == nil { parts[part] = templates }
    }

    mutating func add(_ click: SummaryReport.Click) {
        let key = part(click.clickedAt)
        reports(key)
        for index in templates.indices { parts[key]![index].add(click) }
    }

    mutating func addOrphanVisits(_ count: Int, visitedAt: Int64, slug: String?) {
        let key = part(visitedAt)
        reports(key)
        for index in templates.indices { parts[key]![index].addOrphanVisits(count, visitedAt: visitedAt, slug: slug) }
    }

    /// Adds the counts of another slice of the range.
    mutating func merge(_ other: SummaryPass) {
        for (key, reports) in other.parts {
            guard parts[key] != nil else {
                parts[key] = reports
                continue
            }
            for index in templates.indices { parts[key]![index].merge(reports[index]) }
        }
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
