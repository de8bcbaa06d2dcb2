import AttributionCore
import AttributionStore
import Crypto
import Foundation
import Logging

/// The one ingest path for webhook bodies, shared by the HTTP endpoint and `clickattr import webhooks`.
public struct WebhookIngestor: Sendable {
    /// What one body added to the store.
    public struct Result: Sendable, Equatable {
        public var outcome: IngestOutcome
        /// Actions without a usable `action_type` or `timestamp`; they stay in the archived body.
        public var rejectedActions: Int
        public var otherItems: Int
    }

    let store: any Store
    let logger: Logger
    let now: @Sendable () -> Int64

    public init(store: any Store, logger: Logger, now: @escaping @Sendable () -> Int64 = Clock.milliseconds) {
        self.store = store
        self.logger = logger
        self.now = now
    }

    /// Parses and stores a body that is already verified (or trusted, for a replay). Throws
    /// `WebhookPayload.ParseError` for a body that is not a JSON object; nothing is stored then.
    public func ingest(body: [UInt8], source: WebhookDelivery.Source) async throws -> Result {
        let payload = try WebhookPayload.parse(body)
        for rejected in payload.rejected {
            logger.warning(
                "webhook action not stored as an event: \(rejected.reason); it stays in the archived delivery",
                metadata: ["action": "\(rejected.rawJSON.prefix(512))"])
        }
        let delivery = WebhookDelivery(
            body: body, bodySHA256: Hex.encode(SHA256.hash(data: body)), receivedAt: now(), source: source,
            actions: payload.actions)
        let outcome = try await store.ingest(delivery)
        return Result(outcome: outcome, rejectedActions: payload.rejected.count, otherItems: payload.otherItems)
    }
}
