import AttributionCore
import Testing

@Suite struct LatencyHistogramTests {
    @Test func isExactBelowAMinuteAndCloseAbove() {
        var histogram = LatencyHistogram()
        for value: Int64 in [-400, 0, 250, 59_999] { histogram.add(value) }
        #expect(histogram.value(atPercentile: 25) == -400)
        #expect(histogram.value(atPercentile: 50) == 0)
        #expect(histogram.value(atPercentile: 75) == 250)
        #expect(histogram.value(atPercentile: 100) == 59_999)
        for value: Int64 in [60_000, 4_321_987, 86_400_000, 600_000_000] {
            var single = LatencyHistogram()
            single.add(value)
            let read = single.value(atPercentile: 50)!
            #expect(abs(Double(read - value)) / Double(value) < 0.004, "\(value) read as \(read)")
            var negative = LatencyHistogram()
            negative.add(-value)
            #expect(negative.value(atPercentile: 50)! == -read)
        }
        #expect(LatencyHistogram().value(atPercentile: 50) == nil)
    }

    @Test func percentilesUseNearestRank() {
        var histogram = LatencyHistogram()
        for value in 1...100 { histogram.add(Int64(value)) }
        #expect(histogram.value(atPercentile: 50) == 50)
        #expect(histogram.value(atPercentile: 90) == 90)
        #expect(histogram.value(atPercentile: 99) == 99)
    }
}

@Suite struct SummaryReportTests {
    static let day: Int64 = 86_400_000
    static let t: Int64 = 1_764_288_000_000  // 2025-11-28T00:00:00Z

    static func row(
        _ id: String, at time: Int64, product: String, visitAfter: Int64?, conversions: Int = 0,
        values: [(String?, Money.Sum)] = [], slug: String? = "summer"
    ) -> ClickReportRow {
        ClickReportRow(
            clickID: id, clickedAt: time, clickComponent: "cta", productID: product, trackingToken: nil, wabaID: "w",
            phoneNumberID: nil, firstVisitAt: visitAfter.map { time + $0 }, visits: visitAfter == nil ? 0 : 1,
            botVisits: 1, landingPageViewed: false, conversions: conversions,
            conversionValues: values.map { (currency: $0.0, micros: $0.1) }, windowMilliseconds: 7 * day, slug: slug)
    }

    static func fill(_ report: inout SummaryReport) {
        for row in [
            row("a", at: t, product: "p1", visitAfter: 1_000, conversions: 1, values: [("EUR", 10_000_000)]),
            row("b", at: t + 60_000, product: "p1", visitAfter: 3_000),
            row("c", at: t + 120_000, product: "p2", visitAfter: nil),
            row("d", at: t + day, product: "p2", visitAfter: 8 * day, conversions: 2, values: [("EUR", 5_500_000)]),
        ] {
            report.add(row.summaryClick)
        }
        report.addOrphanVisits(4, visitedAt: t, slug: "summer")
    }

    @Test func totalsWithoutKeys() {
        var report = SummaryReport(keys: [])
        Self.fill(&report)
        #expect(report.columns == SummaryReport.measureColumns)
        #expect(
            report.rows == [[
                .number(4), .number(2), .ratio(0.5), .number(4), .number(4), .number(1_000), .number(3_000),
                .number(3_000), .number(3), .ratio(0.5), .text("15.50"),
            ]])
    }

    @Test func groupsByDayAndProduct() {
        var report = SummaryReport(keys: [.day, .productID])
        Self.fill(&report)
        #expect(report.columns.prefix(3) == ["day", "product_id", "clicks"])
        let rows = report.rows
        #expect(rows.map { Array($0.prefix(3)) } == [
            [.text("2025-11-28"), .text(nil), .number(0)],  // the orphan visits of that day
            [.text("2025-11-28"), .text("p1"), .number(2)],
            [.text("2025-11-28"), .text("p2"), .number(1)],
            [.text("2025-11-29"), .text("p2"), .number(1)],
        ])
        #expect(rows[0][5] == .number(4))
        #expect(rows[3][3] == .number(0))  // outside the window: not a visited click
    }

    @Test func parsesGroupKeys() throws {
        #expect(try SummaryReport.keys("day, slug,day").get() == [.day, .slug])
        #expect(throws: SummaryReport.KeyError.self) { try SummaryReport.keys("day,week").get() }
    }

    @Test func anEmptyRangeStillHasATotalsRow() {
        let row = SummaryReport(keys: []).rows
        #expect(row.count == 1 && row[0][0] == .number(0) && row[0][2] == .ratio(nil))
        #expect(SummaryReport(keys: [.day]).rows.isEmpty)
    }
}
