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

    let persist: @Sendable (WebhookDelivery) async throws -> IngestOutcome
    let logger: Logger
    let now: @Sendable () -> Int64

    /// Stores each delivery in a transaction of its own: for replays, where nothing else is writing.
    public init(store: any Store, logger: Logger, now: @escaping @Sendable () -> Int64 = Clock.milliseconds) {
        self.init(logger: logger, now: now) { delivery in
            guard let outcome = try await store.ingest([delivery]).first else {
                throw OutcomeCountMismatch()
            }
            return outcome
        }
    }

    /// Stores deliveries through the group-commit writer: for the HTTP endpoint.
    public init(
        writer: BatchWriter<WebhookDelivery, IngestOutcome>, logger: Logger,
        now: @escaping @Sendable () -> Int64 = Clock.milliseconds
    ) {
        self.init(logger: logger, now: now, persist: writer.submit)
    }

    init(
        logger: Logger, now: @escaping @Sendable () -> Int64,
        persist: @escaping @Sendable (WebhookDelivery) async throws -> IngestOutcome
    ) {
        self.persist = persist
        self.logger = logger
        self.now = now
    }

    /// Parses and stores a body that is already verified (or trusted, for a replay). Throws
    /// `WebhookPayload.ParseError` for a body that is not a JSON object; nothing is stored then.
    public func ingest(body: [UInt8], source: WebhookDelivery.Source) async throws -> Result {
        try await store(prepare(body: body, source: source))
    }

    /// A body parsed into the delivery to store: the CPU- and memory-heavy half of `ingest`.
    public func prepare(body: [UInt8], source: WebhookDelivery.Source) throws(WebhookPayload.ParseError) -> Prepared {
        let payload = try WebhookPayload.parse(body)
        for rejected in payload.rejected {
            logger.warning(
                "webhook action not stored as an event: \(rejected.reason); it stays in the archived delivery",
                metadata: ["action": "\(rejected.rawJSON.prefix(512))"])
        }
        let delivery = WebhookDelivery(
            body: body, bodySHA256: Hex.encode(SHA256.hash(data: body)), receivedAt: now(), source: source,
            actions: payload.actions)
        return Prepared(delivery: delivery, rejectedActions: payload.rejected.count, otherItems: payload.otherItems)
    }

    /// Stores a prepared delivery; returns once it is committed.
    public func store(_ prepared: Prepared) async throws -> Result {
        let outcome = try await persist(prepared.delivery)
        return Result(outcome: outcome, rejectedActions: prepared.rejectedActions, otherItems: prepared.otherItems)
    }

    /// A parsed body, ready to store.
    public struct Prepared: Sendable {
        let delivery: WebhookDelivery
        let rejectedActions: Int
        let otherItems: Int

        /// About how much memory the parsed actions hold until they are stored.
        var actionBytes: Int { delivery.actions.reduce(0) { $0 + $1.approximateBytes } }
    }
}
