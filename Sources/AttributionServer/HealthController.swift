import AttributionCore
import AttributionStore
import Hummingbird

/// Liveness (the process answers) and readiness. On SQLite, ready means the database answers. On PostgreSQL,
/// ready means this instance can record visits (its spool takes them), whether or not the database is reachable
/// at this moment: a load balancer should keep sending taps through a failover. The body says both.
struct HealthController {
    let store: any Store
    let spool: VisitSpool?

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Response.plainText("ok\n", status: .ok) }
        router.get("/readyz") { _, context in
            let reachable: Bool
            do {
                try await withTimeout(.seconds(1)) { try await store.checkReachable() }
                reachable = true
            } catch {
                context.logger.warning("readiness: the database is unreachable: \(error)")
                reachable = false
            }
            guard let spool else {
                return reachable
                    ? Response.plainText("ready\n", status: .ok)
                    : Response.plainText("database unreachable\n", status: .serviceUnavailable)
            }
            let depth = spool.depth
            let writable = depth.bytes < spool.maxBytes
            return .json(
                .object([
                    "status": .string(writable ? "ready" : "spool full"),
                    "database": .string(reachable ? "reachable" : "unreachable"),
                    "spooled_visits": .number(String(depth.rows)),
                    "spooled_bytes": .number(String(depth.bytes)),
                ]),
                status: writable ? .ok : .serviceUnavailable)
        }
    }
}

/// Runs `body`, throwing `CancellationError` if it takes longer than `limit` (the body is cancelled then).
func withTimeout<Value: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let value = first else { throw CancellationError() }
        return value
    }
}
