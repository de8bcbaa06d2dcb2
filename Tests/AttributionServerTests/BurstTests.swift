import AttributionCore
import AttributionServer
import AttributionStore
import ClickattrTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// What happens when the database falls behind a burst: visitors are still sent on, nothing vanishes silently.
@Suite struct BurstTests {
    static func smallQueues(_ config: inout ClickattrConfig) {
        config.storage.batch.maxSize = 1
        config.storage.batch.queueCapacity = 1
    }

    @Test func aFullVisitQueueStillRedirectsAndLogsEachVisitItCouldNotStore() async throws {
        let service = try TestService(Self.smallQueues)
        let gated = GatedStore(base: service.store)
        let log = CapturedLog()
        try await service.test(store: gated, logger: log.logger()) { client in
            gated.close()
            // The first visit is held in a commit; of the next five, one takes the single queue slot.
            // Each visitor on a connection of their own, as on the internet.
            let first = Task { try await TestService.alone(client, "/summer-sale?click_id=held") }
            try await waitUntil { gated.heldWrites == 1 }
            let answered = Collected<String>()
            let burst = (0..<5).map { index in
                Task {
                    let response = try await TestService.alone(client, "/summer-sale?click_id=burst-\(index)")
                    #expect(response.status == .found)
                    answered.append("burst-\(index)")
                }
            }
            // Four are answered while the database is still shut: they could not be queued.
            try await waitUntil { answered.all.count == 4 }
            let lost = log.entries.filter { $0.message.hasPrefix("visit not stored") }
            #expect(lost.count == 4)
            #expect(Set(lost.compactMap { $0.metadata["click_id"]?.description }) == Set(answered.all))
            // Concurrent visitors may log out of counter order; each total is logged exactly once.
            #expect(Set(lost.compactMap { $0.metadata["lost_visits_total"]?.description }) == ["1", "2", "3", "4"])

            gated.open()
            #expect(try await first.value.status == .found)
            for task in burst { try await task.value }
        }
        #expect(try await service.store.counts().visits == 2)
    }

    @Test func aFullWebhookQueueAnswers503SoMetaRetries() async throws {
        let service = try TestService(Self.smallQueues)
        let gated = GatedStore(base: service.store)
        try await service.test(.router, store: gated) { client in
            gated.close()
            let first = Task { try await client.postWebhook(Fixtures.batch(clicks: 1, prefix: "first"), expecting: .ok) }
            try await waitUntil { gated.heldWrites == 1 }
            let refused = Collected<HTTPResponse.Status>()
            let burst = (0..<3).map { index in
                Task {
                    let response = try await client.execute(
                        uri: "/webhooks/whatsapp", method: .post,
                        headers: TestService.signed(Fixtures.batch(clicks: 1, prefix: "burst-\(index)")),
                        body: ByteBuffer(bytes: Fixtures.batch(clicks: 1, prefix: "burst-\(index)")))
                    if response.status == .serviceUnavailable {
                        #expect(response.headers[.retryAfter] != nil)
                        refused.append(response.status)
                    } else {
                        #expect(response.status == .ok)
                    }
                }
            }
            try await waitUntil { refused.all.count == 2 }
            gated.open()
            _ = try await first.value
            for task in burst { try await task.value }
        }
        #expect(try await service.store.counts() == StoreCounts(deliveries: 2, userActions: 2, visits: 0))
    }
}
