import AttributionCore
import AttributionServer
import AttributionStore
import Foundation
import Testing

/// `clickattr demo`: realistic, and the same seed gives the same data.
@Suite struct DemoTests {
    static let now = DashboardTests.now

    static func report(_ store: any Store) async throws -> String {
        var text = ""
        let request = try Reports.Request(from: nil, to: nil, format: "csv", windowMilliseconds: 7 * 86_400_000)
        try await Reports.clicks(store: store, request: request) { text += $0 }
        try await Reports.summary(store: store, request: request, groupBy: [.day, .slug, .wabaID]) { text += $0 }
        return text
    }

    @Test func theSameSeedGivesTheSameDataAndAnotherSeedOther() async throws {
        var reports: [String] = []
        for seed: UInt64 in [5, 5, 6] {
            let service = try TestService()
            _ = try await DemoData.run(config: service.config, seed: seed, now: Self.now)
            reports.append(try await Self.report(service.store))
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0] != reports[2])
    }

    @Test func theTrafficLooksLikeTwoWeeksOfARealShop() async throws {
        let service = try TestService()
        let totals = try await DemoData.run(config: service.config, seed: 1, now: Self.now)
        #expect(totals.clicks > 2_000 && totals.deliveries > 100 && totals.redeliveries > 0)
        #expect(totals.botVisits > 0 && totals.orphanVisits > 0 && totals.landingPageViews > 0 && totals.repeatedConversions > 0)
        let counts = try await service.store.counts()
        #expect(counts.conversions == totals.conversions)
        #expect(counts.visits == totals.visits)

        var rows: [ClickReportRow] = []
        var cursor: ReportCursor?
        repeat {
            let page = try await service.store.clickReportPage(
                ReportQuery(from: nil, to: nil, windowMilliseconds: 7 * 86_400_000), after: cursor, limit: 2_000)
            rows += page.rows
            cursor = page.next
        } while cursor != nil
        #expect(rows.count == totals.clicks)
        // Fourteen UTC days up to now, all of them with clicks.
        let days = Set(rows.map { $0.clickedAt.floorDivided(by: 86_400_000).quotient })
        #expect(days.count == 14 && rows.allSatisfy { $0.clickedAt < Self.now })
        #expect(Set(rows.compactMap(\.productID)).count >= 4 && Set(rows.compactMap(\.clickComponent)) == ["cta", "body"])
        #expect(Set(rows.compactMap(\.wabaID)).count == 2 && Set(rows.compactMap(\.slug)) == Set(service.config.routes.map(\.slug)))
        // Latencies from a few hundred milliseconds to minutes, a long tail, some before the webhook's time.
        let latencies = rows.compactMap(\.clickToVisitMilliseconds)
        #expect(latencies.contains { $0 < 0 } && latencies.contains { (150...1_000).contains($0) })
        #expect(latencies.contains { $0 > 600_000 })
        let statuses = Set(rows.map(\.status))
        #expect(statuses == [.visited, .clickedOnly, .outsideWindow])
        #expect(rows.contains { $0.botVisits > 0 } && rows.contains { $0.landingPageViewed })
        // Conversions in two currencies; some found through the visitor id only.
        let values = rows.flatMap(\.conversionValues).compactMap(\.currency)
        #expect(Set(values) == ["EUR", "BRL"])
    }

    @Test func aDatabaseThatHoldsDataIsRefused() async throws {
        let service = try TestService()
        _ = try await DemoData.run(config: service.config, seed: 1, now: Self.now)
        await #expect(throws: UsageError.self) { try await DemoData.run(config: service.config, seed: 2, now: Self.now) }
    }
}
