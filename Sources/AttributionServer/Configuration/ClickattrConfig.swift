/// The whole configuration: decoded once from YAML, environment overrides applied, then validated.
public struct ClickattrConfig: Sendable, Equatable, Decodable {
    /// Where the service listens and how it reads requests.
    public struct HTTP: Sendable, Equatable, Decodable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// A folder whose `*.mustache` files replace the built-in templates; empty uses the built-in ones.
        public var templatesDirectory = ""
        /// Take the visitor's address from X-Forwarded-For; only behind a proxy that sets it.
        public var trustForwardedFor = false
        /// A keep-alive connection with no request for this long is closed.
        public var idleTimeoutSeconds = 60
        /// A new request's headers must all arrive within this long.
        public var headerTimeoutSeconds = 10
        /// A request body that stops flowing for this long is cut off.
        public var bodyTimeoutSeconds = 30
        /// The most connections open at once; past it, new ones wait in the listen queue.
        public var maxConnections = 16_384
        /// Unknown paths (orphan visits) stored per visitor address and minute; the rest are counted, not stored.
        public var orphanVisitsPerMinute = 60
        /// The Content-Security-Policy of landing pages: loosen it for the pixels an operator's page loads.
        public var landingContentSecurityPolicy = SecurityHeaders.defaultLandingPolicy
        /// Native TLS, for hosts without a reverse proxy.
        public var tls = TLS()

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case host, port
            case templatesDirectory = "templates_dir"
            case trustForwardedFor = "trust_forwarded_for"
            case idleTimeoutSeconds = "idle_timeout_s"
            case headerTimeoutSeconds = "header_timeout_s"
            case bodyTimeoutSeconds = "body_timeout_s"
            case maxConnections = "max_connections"
            case orphanVisitsPerMinute = "orphan_visits_per_minute"
            case landingContentSecurityPolicy = "landing_csp"
            case tls
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            host = try c.value(.host, default: host)
            port = try c.value(.port, default: port)
            templatesDirectory = try c.value(.templatesDirectory, default: templatesDirectory)
            trustForwardedFor = try c.value(.trustForwardedFor, default: trustForwardedFor)
            idleTimeoutSeconds = try c.value(.idleTimeoutSeconds, default: idleTimeoutSeconds)
            headerTimeoutSeconds = try c.value(.headerTimeoutSeconds, default: headerTimeoutSeconds)
            bodyTimeoutSeconds = try c.value(.bodyTimeoutSeconds, default: bodyTimeoutSeconds)
            maxConnections = try c.value(.maxConnections, default: maxConnections)
            orphanVisitsPerMinute = try c.value(.orphanVisitsPerMinute, default: orphanVisitsPerMinute)
            landingContentSecurityPolicy = try c.value(.landingContentSecurityPolicy, default: landingContentSecurityPolicy)
            tls = try c.value(.tls, default: tls)
        }
    }

    /// A PEM certificate (chain) and its private key; both empty serves plain HTTP.
    public struct TLS: Sendable, Equatable, Decodable {
        public var certificatePath = ""
        public var privateKeyPath = ""

        public init() {}

        public var isEnabled: Bool { !certificatePath.isEmpty || !privateKeyPath.isEmpty }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case certificatePath = "certificate_path"
            case privateKeyPath = "private_key_path"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            certificatePath = try c.value(.certificatePath, default: certificatePath)
            privateKeyPath = try c.value(.privateKeyPath, default: privateKeyPath)
        }
    }

    /// Which database holds the data, and how writes are grouped into transactions.
    public struct Storage: Sendable, Equatable, Decodable {
        public var driver = "sqlite"
        public var sqlitePath = "data/clickattr.sqlite"
        public var postgresURL = ""
        /// The most connections this instance opens to PostgreSQL.
        public var postgresMaxConnections = 8
        /// This instance's own visit spool: a visit is on this disk before its answer, and shipped to the database
        /// from there.
        public var spoolPath = "data/spool.sqlite"
        /// Past this many bytes of unshipped visits, visits are still answered but counted as not stored.
        public var spoolMaxBytes: Int64 = 1 << 30
        public var batch = Batch()

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case driver, sqlite, postgres, spool, batch }
        enum SQLiteKeys: String, CodingKey, CaseIterable { case path }
        enum PostgresKeys: String, CodingKey, CaseIterable {
            case url
            case maxConnections = "max_connections"
        }
        enum SpoolKeys: String, CodingKey, CaseIterable {
            case path
            case maxBytes = "max_bytes"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            driver = try c.value(.driver, default: driver)
            if c.contains(.sqlite) {
                try c.superDecoder(forKey: .sqlite).rejectUnknownKeys(SQLiteKeys.self)
                sqlitePath = try c.nestedContainer(keyedBy: SQLiteKeys.self, forKey: .sqlite)
                    .value(.path, default: sqlitePath)
            }
            if c.contains(.postgres) {
                try c.superDecoder(forKey: .postgres).rejectUnknownKeys(PostgresKeys.self)
                let postgres = try c.nestedContainer(keyedBy: PostgresKeys.self, forKey: .postgres)
                postgresURL = try postgres.value(.url, default: postgresURL)
                postgresMaxConnections = try postgres.value(.maxConnections, default: postgresMaxConnections)
            }
            if c.contains(.spool) {
                try c.superDecoder(forKey: .spool).rejectUnknownKeys(SpoolKeys.self)
                let spool = try c.nestedContainer(keyedBy: SpoolKeys.self, forKey: .spool)
                spoolPath = try spool.value(.path, default: spoolPath)
                spoolMaxBytes = try spool.value(.maxBytes, default: spoolMaxBytes)
            }
            batch = try c.value(.batch, default: batch)
        }
    }

    /// Group commit of visits and webhook deliveries: one transaction serves many requests.
    public struct Batch: Sendable, Equatable, Decodable {
        /// The most items one transaction holds.
        public var maxSize = 512
        /// How long the writer lingers for a batch to fill before committing; 0 commits at once.
        public var maxWaitMilliseconds = 0
        /// The most items waiting; past it a visit is answered but logged instead of stored,
        /// and a webhook is answered 503 so Meta retries.
        public var queueCapacity = 10_000

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxSize = "max_size"
            case maxWaitMilliseconds = "max_wait_ms"
            case queueCapacity = "queue_capacity"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            maxSize = try c.value(.maxSize, default: maxSize)
            maxWaitMilliseconds = try c.value(.maxWaitMilliseconds, default: maxWaitMilliseconds)
            queueCapacity = try c.value(.queueCapacity, default: queueCapacity)
        }
    }

    /// Meta's webhook: where it posts, and the secrets that prove it is Meta.
    public struct Webhook: Sendable, Equatable, Decodable {
        public var path = "/webhooks/whatsapp"
        public var verifyToken = ""
        public var appSecret = ""

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path
            case verifyToken = "verify_token"
            case appSecret = "app_secret"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.value(.path, default: path)
            verifyToken = try c.value(.verifyToken, default: verifyToken)
            appSecret = try c.value(.appSecret, default: appSecret)
        }
    }

    /// Bearer tokens for `/api/*` and the dashboard.
    public struct API: Sendable, Equatable, Decodable {
        public var keys: [String] = []

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case keys }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            keys = try decoder.container(keyedBy: CodingKeys.self).value(.keys, default: keys)
        }
    }

    /// Who may read `GET /metrics`.
    public struct Metrics: Sendable, Equatable, Decodable {
        /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
        public var bearerToken = ""
        /// When set, `/metrics` is served on this port only (same host), not on `http.port`.
        public var port = 0

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case bearerToken = "bearer_token"
            case port
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            bearerToken = try c.value(.bearerToken, default: bearerToken)
            port = try c.value(.port, default: port)
        }
    }

    /// How long after a click a visit or conversion still counts for it.
    public struct Attribution: Sendable, Equatable, Decodable {
        public var windowDays = 7

        public init() {}

        /// The window as the store measures time.
        public var windowMilliseconds: Int64 { Int64(windowDays) * 86_400_000 }

        enum CodingKeys: String, CodingKey, CaseIterable { case windowDays = "window_days" }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            windowDays = try decoder.container(keyedBy: CodingKeys.self).value(.windowDays, default: windowDays)
        }
    }

    /// Which query parameters of a visit carry a click id.
    public struct Tracking: Sendable, Equatable, Decodable {
        public var clickIDParameters = ["click_id"]

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case clickIDParameters = "click_id_params" }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            clickIDParameters = try decoder.container(keyedBy: CodingKeys.self)
                .value(.clickIDParameters, default: clickIDParameters)
        }
    }

    /// How much of a visitor's IP address is kept.
    public struct Privacy: Sendable, Equatable, Decodable {
        public var ipv4Prefix = 24
        public var ipv6Prefix = 48

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ipv4Prefix = "ipv4_prefix"
            case ipv6Prefix = "ipv6_prefix"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ipv4Prefix = try c.value(.ipv4Prefix, default: ipv4Prefix)
            ipv6Prefix = try c.value(.ipv6Prefix, default: ipv6Prefix)
        }
    }

    /// How long data is kept when `serve` purges daily.
    public struct Retention: Sendable, Equatable, Decodable {
        /// Days to keep; 0 (the default) keeps everything until `clickattr purge` is run.
        public var days = 0

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case days }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            days = try decoder.container(keyedBy: CodingKeys.self).value(.days, default: days)
        }
    }

    public var http = HTTP()
    public var storage = Storage()
    public var webhook = Webhook()
    public var api = API()
    public var attribution = Attribution()
    public var tracking = Tracking()
    public var privacy = Privacy()
    public var retention = Retention()
    public var metrics = Metrics()
    public var routes: [Route] = []

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case http, storage, webhook, api, attribution, tracking, privacy, retention, metrics, routes
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        http = try c.value(.http, default: http)
        storage = try c.value(.storage, default: storage)
        webhook = try c.value(.webhook, default: webhook)
        api = try c.value(.api, default: api)
        attribution = try c.value(.attribution, default: attribution)
        tracking = try c.value(.tracking, default: tracking)
        privacy = try c.value(.privacy, default: privacy)
        retention = try c.value(.retention, default: retention)
        metrics = try c.value(.metrics, default: metrics)
        routes = try c.value(.routes, default: routes)
    }
}

/// A landing route: visits to `/<slug>` go to `destination`.
public struct Route: Sendable, Equatable, Decodable {
    /// How a visit is answered.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// 302 to the destination.
        case redirect
        /// 200 with `templates/landing.mustache`, which links or forwards to the destination.
        case landing
    }

    public var slug: String
    public var destination: String
    public var mode: Mode
    public var passthroughQuery: Bool

    public init(slug: String, destination: String, mode: Mode = .redirect, passthroughQuery: Bool = true) {
        self.slug = slug
        self.destination = destination
        self.mode = mode
        self.passthroughQuery = passthroughQuery
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case slug, destination, mode
        case passthroughQuery = "passthrough_query"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        slug = try c.decode(String.self, forKey: .slug)
        destination = try c.decode(String.self, forKey: .destination)
        let modeName = try c.value(.mode, default: Mode.redirect.rawValue)
        guard let mode = Mode(rawValue: modeName) else {
            let key = ConfigKeyPath.render(decoder.codingPath + [CodingKeys.mode])
            throw ConfigError.invalid(key, "must be redirect or landing, not '\(modeName)'")
        }
        self.mode = mode
        passthroughQuery = try c.value(.passthroughQuery, default: true)
    }
}
