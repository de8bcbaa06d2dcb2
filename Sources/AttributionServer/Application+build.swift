import AttributionCore
import AttributionStore
import Hummingbird
import HummingbirdCore
import Logging
import Foundation
import Mustache
import NIOCore
import ServiceLifecycle

/// Builds the service from a validated configuration. `store` defaults to the configured database.
public func buildApplication(
    config: ClickattrConfig, logger: Logger = Logger(label: "clickattr"), store: (any Store)? = nil,
    now: @escaping @Sendable () -> Int64 = Clock.milliseconds
) async throws -> some ApplicationProtocol {
    let store = try store ?? makeStore(config: config, logger: logger)
    try await prepare(store, config: config)
    // A visit is made durable in this instance's append-only spool before its answer (a few pages appended, no
    // random index touched), and shipped to the database from there in large batches that build the indexes.
    var spool: VisitSpool?
    let destination = store as? any SpoolDestination
    if destination != nil {
        spool = try openSpool(config: config)
    }
    let templates = try await loadTemplates(config: config)
    if config.webhook.appSecret.isEmpty {
        logger.warning("webhook.app_secret is empty: every webhook POST will be refused until it is set")
    }
    let limits = BatchLimits(
        maxBatchSize: config.storage.batch.maxSize,
        maxWait: .milliseconds(config.storage.batch.maxWaitMilliseconds),
        queueCapacity: config.storage.batch.queueCapacity)
    let metrics = ServiceMetrics()
    let losses = VisitLosses(metrics: metrics, logger: logger)
    // On the writer's own thread, which a commit may block: the spool's append is synchronous, and a store without
    // a spool (a test's) is waited for.
    let visitWriter = VisitWriter(limits: limits) { [spool] visits in
        try metrics.timingCommit(of: "visits") {
            if let spool {
                try spool.append(visits)
            } else {
                try waitFor { try await store.recordVisits(visits) }
            }
        }
        metrics.visitsRecorded(visits.count)
    } lost: { visit, error in
        losses.lose(visit, error)
    }
    // While the cores are saturated, the shipper gives them to the visitors.
    let pressure = CPUPressure()
    let shipper = spool.flatMap { spool in
        destination.map { SpoolShipper(spool: spool, store: $0, logger: logger, coresSaturated: { pressure.saturated }) }
    }
    // A delivery may hold 1000 actions and 4 MiB: its queue stays short so memory stays bounded (64 x 4 MiB).
    let deliveryLimits = BatchLimits(
        maxBatchSize: min(limits.maxBatchSize, 16), maxWait: limits.maxWait,
        queueCapacity: min(limits.queueCapacity, 64))
    let deliveryWriter = BatchWriter<WebhookDelivery, IngestOutcome>(limits: deliveryLimits) { deliveries in
        try await metrics.timingCommit(of: "deliveries") { try await store.ingest(deliveries) }
    }
    // Weakly: the writers' commits hold the metrics, and a cycle would keep an application (and its spool's lock) alive.
    metrics.watchQueue("visits") { [weak visitWriter] in visitWriter?.queuedCount ?? 0 }
    metrics.watchQueue("deliveries") { [weak deliveryWriter] in deliveryWriter?.queuedCount ?? 0 }
    if let spool { metrics.watchSpool(spool) }
    let rollups = SummaryRollups(store: store, windowMilliseconds: config.attribution.windowMilliseconds)
    let landingController = makeLandingController(
        config: config, recorder: VisitRecorder(writer: visitWriter, metrics: metrics, losses: losses), templates: templates, now: now)
    let router = try buildRouter(
        config: config, store: store, spool: spool, shipper: shipper, landing: landingController,
        webhooks: WebhookIngestor(writer: deliveryWriter, logger: logger, now: now), templates: templates,
        metrics: metrics, rollups: rollups, now: now)
    let landing = LandingChannelHandler.Landing(
        controller: landingController, routerPaths: routerPaths(config: config), metrics: metrics,
        serverName: serverName, logger: logger)
    let landingHandlers: @Sendable () -> [any RemovableChannelHandler] = { [LandingChannelHandler(landing: landing)] }
    let landingBytes: @Sendable (ConnectionClock) -> any ChannelHandler = { LandingFastPath(landing: landing, clock: $0) }
    let metricsServer: [any Service] = config.metrics.port == 0 ? [] : [
        Application(
            router: {
                let router = Router()
                MetricsController(metrics: metrics, bearerToken: config.metrics.bearerToken).addRoutes(to: router)
                return router
            }(),
            configuration: .init(address: .hostname(config.http.host, port: config.metrics.port), serverName: "clickattr-metrics"),
            logger: logger)
    ]
    // The server is the group's last service, so it stops first on SIGTERM; the writers then drain their queues.
    let clientLimits = ClientLimits(
        idle: .seconds(Int64(config.http.idleTimeoutSeconds)), header: .seconds(Int64(config.http.headerTimeoutSeconds)),
        body: .seconds(Int64(config.http.bodyTimeoutSeconds)))
    let certificates = try config.http.tls.isEnabled
        ? CertificateStore(certificatePath: config.http.tls.certificatePath, privateKeyPath: config.http.tls.privateKeyPath)
        : nil
    if config.metrics.port == 0, config.metrics.bearerToken.isEmpty {
        logger.notice("GET /metrics is open to whoever reaches http.port; set metrics.bearer_token or metrics.port to close it")
    }
    var app = Application(
        router: router,
        server: HTTPServerBuilder { responder -> any ServerChildChannel in
            guard let certificates else {
                return LimitedHTTP1Channel(
                    inner: HTTP1Channel(responder: responder), limits: clientLimits, landing: landingHandlers,
                    landingBytes: landingBytes)
            }
            return ReloadingTLSChannel(
                responder: responder, limits: clientLimits, certificates: certificates, http1Handlers: landingHandlers,
                http1Bytes: landingBytes)
        },
        configuration: .init(
            address: .hostname(config.http.host, port: config.http.port), serverName: serverName,
            // A burst of new visitors (a campaign sent at once) must not overflow the kernel's queue of connections
            // not yet accepted: an overflow drops the SYN and the visitor waits a second or more for the retry.
            // The kernel caps it at net.core.somaxconn.
            backlog: listenBacklog,
            availableConnectionsDelegate: MaximumAvailableConnections(
                ConnectionCeiling.effective(configured: config.http.maxConnections, logger: logger))),
        // Stopped in reverse order: the server, then the writers drain, then the shipper ships what it can.
        services: (shipper.map { [$0] } ?? []) + [visitWriter, deliveryWriter, SignalReloader(certificates: certificates, logger: logger)]
            + metricsServer + [RollupWarmer(rollups: rollups, store: store, logger: logger, now: now)]
            + (config.retention.days > 0 ? [DailyPurge(store: store, days: config.retention.days, logger: logger, now: now)] : []),
        onServerRunning: { listener in
            // NIO accepts 4 connections per turn of the event loop by default: under load, with a turn busy with
            // every open connection, a thousand visitors arriving at once waited seconds to be accepted.
            try? await listener.setOption(ChannelOptions.maxMessagesPerRead, value: acceptsPerTurn).get()
        },
        logger: logger)
    return app
}

/// The `Server` header of every answer.
let serverName = "clickattr"

/// The listening socket's queue of connections not yet accepted (Hummingbird's default is 256).
let listenBacklog = 4_096
/// Connections accepted in one turn of the event loop.
let acceptsPerTurn: UInt = 256

/// The paths `buildRouter` answers GET and HEAD on with something other than the landing controller: every other
/// GET or HEAD is the landing channel handler's. Kept beside the routes it lists.
func routerPaths(config: ClickattrConfig) -> LandingChannelHandler.RouterPaths {
    .init(
        exact: Set([config.webhook.path, "/healthz", "/readyz"] + (config.metrics.port == 0 ? ["/metrics"] : [])),
        prefixes: ["/api/", "/dashboard"])
}

/// Every route of the service, in one router.
func buildRouter(
    config: ClickattrConfig, store: any Store, spool: VisitSpool? = nil, shipper: SpoolShipper? = nil,
    landing: LandingController, webhooks: WebhookIngestor,
    templates: MustacheLibrary, metrics: ServiceMetrics = ServiceMetrics(), rollups: SummaryRollups? = nil,
    now: @escaping @Sendable () -> Int64
) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(RequestMetricsMiddleware(metrics: metrics, webhookPath: config.webhook.path))
    HealthController(store: store, spool: spool).addRoutes(to: router)
    if config.metrics.port == 0 {
        MetricsController(metrics: metrics, bearerToken: config.metrics.bearerToken).addRoutes(to: router)
    }
    WebhookController(
        verifyToken: config.webhook.verifyToken,
        signature: WebhookSignature(appSecret: config.webhook.appSecret),
        ingestor: webhooks, metrics: metrics
    ).addRoutes(to: router, path: config.webhook.path)
    let keys = APIKeys(config.api.keys)
    ConversionsController(
        keys: keys, store: store,
        windowMilliseconds: config.attribution.windowMilliseconds, now: now, metrics: metrics,
        visitsCaughtUp: { await shipper?.catchUp() }
    ).addRoutes(to: router)
    let rollups = rollups ?? SummaryRollups(store: store, windowMilliseconds: config.attribution.windowMilliseconds)
    let access = ReportAccess(keys: keys, sessions: DashboardSession(apiKeys: config.api.keys), now: now)
    ReportsController(access: access, store: store, windowMilliseconds: config.attribution.windowMilliseconds)
        .addRoutes(to: router)
    DashboardController(
        access: access,
        summaries: rollups,
        store: store, templates: try builtInTemplates(), failedLogins: AddressLimiter(perMinute: 5),
        trustForwardedFor: config.http.trustForwardedFor, servesTLS: config.http.tls.isEnabled,
        webhookPath: config.webhook.path, now: now
    ).addRoutes(to: router)
    // Over HTTP/1.1 the landing channel handler answers these before they reach the router; HTTP/2 and tests
    // through the router come here.
    landing.addRoutes(to: router)
    return router
}

/// The landing host's controller, shared by the router and the landing channel handler.
func makeLandingController(
    config: ClickattrConfig, recorder: VisitRecorder, templates: MustacheLibrary, now: @escaping @Sendable () -> Int64
) -> LandingController {
    LandingController(
        routes: Dictionary(
            uniqueKeysWithValues: config.routes.map { ($0.slug, LandingController.Target($0)) }),
        clickIDParameters: config.tracking.clickIDParameters,
        anonymizer: IPAnonymizer(ipv4Prefix: config.privacy.ipv4Prefix, ipv6Prefix: config.privacy.ipv6Prefix),
        classifier: BotClassifier(), trustForwardedFor: config.http.trustForwardedFor, recorder: recorder,
        orphans: AddressLimiter(perMinute: config.http.orphanVisitsPerMinute),
        templates: templates,
        landingPageFields: LandingController.landingPageFields(policy: config.http.landingContentSecurityPolicy), now: now)
}

/// The configured database, opened but not yet migrated.
public func makeStore(config: ClickattrConfig, logger: Logger = Logger(label: "clickattr")) throws -> any Store {
    switch config.storage.driver {
    case "postgres":
        do {
            return try PostgresStore(
                url: config.storage.postgresURL, maxConnections: config.storage.postgresMaxConnections, logger: logger)
        } catch {
            throw ConfigError.invalid("storage.postgres.url", error.description)
        }
    case "sqlite":
        do {
            return try SQLiteStore(path: config.storage.sqlitePath)
        } catch {
            // What the path names (a file where a folder should be, a file that is not SQLite) is the operator's
            // to fix, so it is said as a config error.
            throw ConfigError.invalid("storage.sqlite.path", "'\(config.storage.sqlitePath)' cannot be opened: \(error)")
        }
    default:
        throw ConfigError.invalid("storage.driver", "'\(config.storage.driver)' is not available in this version")
    }
}

/// Creates or upgrades the schema. A PostgreSQL server that cannot be reached or refuses the login is the
/// operator's to fix: one sentence, exit code 2.
public func prepare(_ store: any Store, config: ClickattrConfig) async throws {
    do {
        try await store.migrate()
    } catch let error as PostgresStoreError {
        throw UsageError(
            "cannot use the PostgreSQL database of storage.postgres.url (\(PostgresURL.redacted(config.storage.postgresURL))): \(error)")
    }
}

/// This instance's visit spool; one that another instance holds, or that cannot be opened, stops start-up.
func openSpool(config: ClickattrConfig) throws -> VisitSpool {
    do {
        return try VisitSpool(path: config.storage.spoolPath, maxBytes: config.storage.spoolMaxBytes)
    } catch {
        throw ConfigError.invalid("storage.spool.path", "'\(config.storage.spoolPath)' cannot be used: \(error)")
    }
}

/// The Mustache templates: the ones compiled into the binary, or those of `http.templates_dir` when it is set.
/// The landing template is required only when a route renders it.
func loadTemplates(config: ClickattrConfig) async throws -> MustacheLibrary {
    let directory = config.http.templatesDirectory
    guard !directory.isEmpty else { return try builtInTemplates() }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ConfigError.invalid("http.templates_dir", "'\(directory)' is not a folder; leave it unset to use the built-in templates")
    }
    let library: MustacheLibrary
    do {
        library = try await MustacheLibrary(directory: directory)
    } catch {
        throw ConfigError.invalid("http.templates_dir", "'\(directory)' holds no readable Mustache templates: \(error)")
    }
    if config.routes.contains(where: { $0.mode == .landing }), library.getTemplate(named: "landing") == nil {
        throw ConfigError.invalid(
            "http.templates_dir", "'\(directory)' has no landing.mustache, which routes in landing mode render")
    }
    return library
}

/// The shipped templates, parsed from the text compiled into the binary.
func builtInTemplates() throws -> MustacheLibrary {
    var library = MustacheLibrary()
    for (name, text) in BuiltInTemplates.all {
        library.register(try MustacheTemplate(string: text), named: name)
    }
    return library
}
