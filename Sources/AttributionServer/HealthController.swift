import AttributionStore
import Hummingbird

/// Liveness (the process answers) and readiness (the database answers too).
struct HealthController {
    let store: any Store

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Response.plainText("ok\n", status: .ok) }
        router.get("/readyz") { _, context in
            do {
                try await store.checkReachable()
                return Response.plainText("ready\n", status: .ok)
            } catch {
                context.logger.error("readiness check failed: \(error)")
                return Response.plainText("database unreachable\n", status: .serviceUnavailable)
            }
        }
    }
}
