import AttributionCore
import AttributionStore
import Dispatch
import Logging
import Synchronization

/// Records visits through the visit writer's group commit. A visit that cannot be stored (queue full, spool full,
/// database failure) never blocks the visitor: it is counted and logged whole, so it can still be recovered.
final class VisitRecorder: Sendable {
    let writer: VisitWriter
    let metrics: ServiceMetrics
    let losses: VisitLosses

    init(writer: VisitWriter, metrics: ServiceMetrics, losses: VisitLosses) {
        self.writer = writer
        self.metrics = metrics
        self.losses = losses
    }

    /// Returns once the visit is committed, or once it is known that it cannot be.
    func record(_ visit: Visit) async {
        do {
            try await writer.submit(visit)
        } catch let refusal as VisitWriter.Refusal {
            losses.lose(visit, refusal)
        } catch {
            // A failed commit: the writer has counted and logged it.
        }
    }

    /// Queues the visit for `listener`, which hears of `ticket` once the visit is committed or its commit failed;
    /// false (the visit counted and logged as lost) when it cannot be queued.
    func record(_ visit: Visit, listener: any VisitCommitListener, ticket: AnyObject) -> Bool {
        do {
            try writer.submit(visit, listener: listener, ticket: ticket)
            return true
        } catch {
            losses.lose(visit, error)
            return false
        }
    }
}

/// Counts and logs visits answered but not stored, each whole, so it can still be recovered.
final class VisitLosses: Sendable {
    let metrics: ServiceMetrics
    let logger: Logger
    private let lost = Atomic<Int>(0)

    init(metrics: ServiceMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    func lose(_ visit: Visit, _ error: any Error) {
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
        case VisitWriter.Refusal.queueFull: "queue_full"
        case VisitWriter.Refusal.stopped: "stopped"
        case is VisitSpool.Full: "spool_full"
        default: "store_error"
        }
    }
}

/// Runs async work to its end from a thread that may block on it (the visit writer's own).
func waitFor(_ work: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let outcome = Mutex<Result<Void, any Error>>(.success(()))
    Task {
        do { try await work() } catch { outcome.withLock { $0 = .failure(error) } }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }.get()
}
