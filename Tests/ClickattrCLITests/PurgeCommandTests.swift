import AttributionCore
import AttributionStore
import Foundation
import Testing

@Suite struct PurgeCommandTests {
    @Test(arguments: [["7"], ["0"], ["-3"], ["soon"], ["99999999999999"]])
    func aRetentionWithinTheWindowOrNotANumberIsExitCode2(days: [String]) throws {
        let cli = try CLI()
        let result = try cli.run(["purge", "--older-than"] + days + ["--config", try cli.writeConfig()])
        #expect(result.code == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func purgesWhatIsOldAndSaysWhatWent() async throws {
        let cli = try CLI()
        let config = try cli.writeConfig()
        let store = try SQLiteStore(path: cli.path("db/clickattr.sqlite"))
        try await store.migrate()
        let day: Int64 = 86_400_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await store.ingest([
            WebhookDelivery(
                body: Array("b".utf8), bodySHA256: "b", receivedAt: now - 40 * day, source: .http,
                actions: [
                    UserAction(
                        key: "k", actionType: UserAction.linkClick, occurredAt: now - 40 * day, clickID: "c",
                        rawJSON: "{}")
                ])
        ])
        try await store.recordVisits([
            Visit(
                visitedAt: now - 40 * day, method: "GET", path: "/s", slug: "s", clickID: "c", clickParameters: [:],
                clickIDProblem: nil, visitorID: nil, userAgent: nil, referrer: nil, ip: nil, botReason: nil)
        ])
        let result = try cli.run(["purge", "--older-than", "30", "--vacuum", "--config", config])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(30 days): 1 clicks, 1 visits, 0 landing page views and other actions, 0 conversions, 1 raw deliveries"))
        #expect(result.stdout.contains("vacuumed:"))
        #expect(try await store.counts() == StoreCounts(deliveries: 0, userActions: 0, visits: 0))
    }
}
