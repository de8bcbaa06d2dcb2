import AttributionCore
import AttributionStore
import Logging
import Synchronization

/// Records visits through the group-commit writer. A visit that cannot be stored (queue full, database
/// failure) never blocks the visitor: it is counted and logged whole, so it can still be recovered.
final class VisitRecorder: Sendable {
    let writer: BatchWriter<Visit, Void>
    let metrics: ServiceMetrics
    private let lost = Atomic<Int>(0)

    init(writer: BatchWriter<Visit, Void>, metrics: ServiceMetrics) {
        self.writer = writer
        self.metrics = metrics
    }

    /// Returns once the visit is committed, or once it is known that it cannot be.
    func record(_ visit: Visit, logger: Logger) async {
        do {
            try await writer.submit(visit)
        } catch {
            lose(visit, error, logger: logger)
        }
    }

    /// Calls `then` once the visit is committed, or once it is known that it cannot be: for an event loop.
    func record(_ visit: Visit, logger: Logger, then: @escaping @Sendable () -> Void) {
        writer.submit(visit) { [self] result in
            if case .failure(let error) = result { lose(visit, error, logger: logger) }
            then()
        }
    }

    private func lose(_ visit: Visit, _ error: any Error, logger: Logger) {
        let total = lost.add(1, ordering: .relaxed).newValue
        metrics.visitNotRecorded(reason: Self.reason(error))
        logger.error(
            "visit not stored: \(error)",
            metadata: [
                "lost_visits_total": "\(total)", "visited_at": "\(visit.visitedAt)", "path": "\(visit.path)",
                "click_id": "\(visit.clickID ?? "")", "visitor_id": "\(visit.visitorID ?? "")",
                "user_agent": "\(visit.userAgent ?? "")", "ip": "\(visit.ip ?? "")",
                "bot_reason": "\(visit.botReason ?? "")",
            ])
    }

    /// The `reason` label of `clickattr_visits_not_recorded_total`.
    static func reason(_ error: any Error) -> String {
        switch error {
        case BatchWriter<Visit, Void>.Refusal.queueFull: "queue_full"
        case BatchWriter<Visit, Void>.Refusal.stopped: "stopped"
        case is VisitSpool.Full: "spool_full"
        default: "store_error"
        }
    }
}
