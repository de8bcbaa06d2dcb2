import AttributionCore
import AttributionStore
import CoreMetrics
import Metrics
import Hummingbird
import Prometheus
import Synchronization

/// The service's Prometheus metrics, recorded through swift-metrics into a registry of this application's own
/// (tests build many applications in one process). The names are a contract: see the README's metrics table.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let recordedVisits: CoreMetrics.Counter
    /// Sampled when scraped: write queues, the spool.
    private let samplers = Mutex<[@Sendable () -> Void]>([])

    static let commitBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]
    static let requestBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]
    /// Action types Meta documents; any other is counted as `other`, so a payload cannot mint label values.
    static let knownActionTypes: Set<String> = ["marketing_messages_link_click", "landing_page_view"]

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.requestBuckets
        factory.durationHistogramBuckets = ["clickattr_commit_duration_seconds": Self.commitBuckets]
        self.factory = factory
        recordedVisits = CoreMetrics.Counter(label: "clickattr_visits_recorded_total", factory: factory)
    }

    // MARK: Recording

    /// The counter and timer of each route group and status, made once: making them looks them up in the
    /// registry, which costs microseconds a request on the landing path.
    private let requestHandles = Mutex<[RequestKey: (count: CoreMetrics.Counter, time: CoreMetrics.Timer)]>([:])

    /// A group and a status as the handles' key: no string is made for it per request.
    private struct RequestKey: Hashable {
        let group: String
        let status: Int
    }

    func request(group: String, status: Int, duration: Duration) {
        let handles = Self.handle(in: requestHandles, for: RequestKey(group: group, status: status)) {
            (
                count: Counter(
                    label: "clickattr_http_requests_total", dimensions: [("group", group), ("status", String(status))],
                    factory: factory),
                time: CoreMetrics.Timer(
                    label: "clickattr_http_request_duration_seconds", dimensions: [("group", group)], factory: factory)
            )
        }
        handles.count.increment()
        handles.time.recordNanoseconds(duration.nanoseconds)
    }

    func visitsRecorded(_ count: Int) {
        recordedVisits.increment(by: count)
    }

    /// A visit answered but not stored; `reason` is one of queue_full, stopped, spool_full, store_error,
    /// orphan_rate_limit.
    func visitNotRecorded(reason: String) {
        Counter(label: "clickattr_visits_not_recorded_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// Runs a writer's commit and times it, by whether it committed.
    func timingCommit<Value>(of writer: String, _ commit: () async throws -> Value) async throws -> Value {
        let start = ContinuousClock.now
        do {
            let value = try await commit()
            recordCommit(of: writer, "committed", since: start)
            return value
        } catch {
            recordCommit(of: writer, "failed", since: start)
            throw error
        }
    }

    /// Runs a writer's commit on the calling thread and times it, by whether it committed.
    func timingCommit<Value>(of writer: String, _ commit: () throws -> Value) throws -> Value {
        let start = ContinuousClock.now
        do {
            let value = try commit()
            recordCommit(of: writer, "committed", since: start)
            return value
        } catch {
            recordCommit(of: writer, "failed", since: start)
            throw error
        }
    }

    /// The commit timer of each writer and result, made once: made per commit (a thousand a second under a landing
    /// flood), each looked itself up in the registry and allocated its label and dimensions again.
    private let commitTimers = Mutex<[CommitKey: CoreMetrics.Timer]>([:])

    private struct CommitKey: Hashable {
        let writer: String
        let result: String
    }

    private func recordCommit(of writer: String, _ result: String, since start: ContinuousClock.Instant) {
        let timer = Self.handle(in: commitTimers, for: CommitKey(writer: writer, result: result)) {
            CoreMetrics.Timer(
                label: "clickattr_commit_duration_seconds", dimensions: [("writer", writer), ("result", result)],
                factory: factory)
        }
        timer.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    }

    /// The handle kept for `key`, made (outside the lock: making one looks it up in the registry) the first time.
    private static func handle<Key: Hashable & Sendable, Handle: Sendable>(
        in handles: borrowing Mutex<[Key: Handle]>, for key: Key, make: () -> Handle
    ) -> Handle {
        if let handle = handles.withLock({ $0[key] }) { return handle }
        let made = make()
        handles.withLock { $0[key] = made }
        return made
    }

    func delivery(new: Bool) {
        Counter(
            label: "clickattr_webhook_deliveries_total", dimensions: [("result", new ? "new" : "duplicate")], factory: factory
        ).increment()
    }

    func actions(type: String, count: Int) {
        let label = Self.knownActionTypes.contains(type) ? type : "other"
        Counter(label: "clickattr_webhook_actions_total", dimensions: [("type", label)], factory: factory)
            .increment(by: count)
    }

    func actionsStored(stored: Int, duplicate: Int) {
        for (result, count) in [("stored", stored), ("duplicate", duplicate)] where count > 0 {
            Counter(label: "clickattr_webhook_actions_stored_total", dimensions: [("result", result)], factory: factory)
                .increment(by: count)
        }
    }

    func malformedActions(_ count: Int) {
        Counter(label: "clickattr_webhook_malformed_actions_total", factory: factory).increment(by: count)
    }

    func signatureFailure() {
        Counter(label: "clickattr_webhook_signature_failures_total", factory: factory).increment()
    }

    /// `result`: created, duplicate, invalid or not_stored; `source`: api or postback.
    func conversion(result: String, source: String) {
        Counter(
            label: "clickattr_conversions_total", dimensions: [("result", result), ("source", source)], factory: factory
        ).increment()
    }

    // MARK: Sampled gauges

    /// Reads the depth of a write queue when scraped.
    func watchQueue(_ writer: String, depth: @escaping @Sendable () -> Int) {
        let gauge = Gauge(label: "clickattr_write_queue_depth", dimensions: [("writer", writer)], factory: factory)
        samplers.withLock { $0.append { gauge.record(depth()) } }
    }

    /// Reads the spool's unshipped visits and bytes when scraped.
    func watchSpool(_ spool: VisitSpool) {
        let rows = Gauge(label: "clickattr_spool_visits", factory: factory)
        let bytes = Gauge(label: "clickattr_spool_bytes", factory: factory)
        samplers.withLock {
            $0.append { [weak spool] in
                guard let depth = spool?.depth else { return }
                rows.record(depth.rows)
                bytes.record(depth.bytes)
            }
        }
    }

    /// The Prometheus text of every metric, sampled now.
    func exposition() -> [UInt8] {
        for sample in samplers.withLock({ $0 }) { sample() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Counts every answer by route group and status, and times it.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: ServiceMetrics
    let webhookPath: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let group = Self.group(request.uri.path, webhookPath: webhookPath)
        do {
            let response = try await next(request, context)
            metrics.request(group: group, status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(group: group, status: error.status.code, duration: ContinuousClock.now - start)
            throw error
        } catch {
            metrics.request(group: group, status: 500, duration: ContinuousClock.now - start)
            throw error
        }
    }

    /// webhook, conversions, reports, dashboard, health, metrics, or landing (every other path: slugs and orphans).
    static func group(_ path: String, webhookPath: String) -> String {
        if path == webhookPath { return "webhook" }
        if path == "/api/v1/conversions" || path == "/api/v1/postback" { return "conversions" }
        if path.hasPrefix("/api/v1/reports/") { return "reports" }
        if path == "/dashboard" || path.hasPrefix("/dashboard/") { return "dashboard" }
        if path == "/healthz" || path == "/readyz" { return "health" }
        if path == "/metrics" { return "metrics" }
        return "landing"
    }
}

/// `GET /metrics`: Prometheus text; behind `metrics.bearer_token` when one is set.
struct MetricsController {
    let metrics: ServiceMetrics
    let bearerToken: String

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/metrics") { request, _ -> Response in
            if !bearerToken.isEmpty, !APIKeys([bearerToken]).accepts(APIKeys.bearer(request.headers)) {
                var response = Response.json(
                    .object(["error": .string("the metrics need Authorization: Bearer with metrics.bearer_token")]),
                    status: .unauthorized)
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            }
            return Response(
                status: .ok, headers: SecurityHeaders.fields(contentType: "text/plain; version=0.0.4; charset=utf-8"),
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
