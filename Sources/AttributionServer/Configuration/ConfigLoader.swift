import AttributionStore
import Foundation
import Yams

/// Reads the YAML file, applies `CLICKATTR_*` environment overrides, and validates the result.
public enum ConfigLoader {
    public static let defaultPath = "config/clickattr.yaml"

    public static func load(
        path: String = defaultPath, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ClickattrConfig {
        let text = try read(path)
        var config = try decode(text, source: path)
        try applyEnvironment(environment, to: &config)
        try validate(config)
        return config
    }

    /// Decodes YAML text; `source` names it in errors.
    public static func decode(_ text: String, source: String) throws(ConfigError) -> ClickattrConfig {
        do {
            // A file of only comments is an empty document: every default.
            guard try Yams.compose(yaml: text) != nil else { return ClickattrConfig() }
            return try YAMLDecoder().decode(ClickattrConfig.self, from: text)
        } catch let error as ConfigError {
            throw ConfigError("\(source): \(error.description)")
        } catch let error as DecodingError {
            throw ConfigError("\(source): \(describe(error))")
        } catch {
            throw ConfigError("\(source): not valid YAML: \(firstLine(of: error))")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let context):
            let key = ConfigKeyPath.render(context.codingPath)
            return key.isEmpty ? "the file must be a YAML mapping of keys" : "config key '\(key)' must be \(noun(for: type))"
        case .valueNotFound(let type, let context):
            return "config key '\(ConfigKeyPath.render(context.codingPath))' is empty; it must be \(noun(for: type))"
        case .keyNotFound(let key, let context):
            return "config key '\(ConfigKeyPath.render(context.codingPath + [key]))' is required"
        case .dataCorrupted(let context):
            // Yams wraps what a decoder throws, ConfigError included, and YAML syntax errors alike.
            if let error = context.underlyingError as? ConfigError { return error.description }
            if let error = context.underlyingError as? DecodingError { return describe(error) }
            let key = ConfigKeyPath.render(context.codingPath)
            if !key.isEmpty { return "config key '\(key)' has an unreadable value" }
            return "not valid YAML" + (context.underlyingError.map { ": " + firstLine(of: $0) } ?? "")
        @unknown default:
            return "the file could not be read as a configuration"
        }
    }

    private static func noun(for type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is String.Type, is Node.Scalar.Type: return "a single value"
        case is Node.Sequence.Type: return "a list"
        default: return "a mapping of keys"
        }
    }

    private static func firstLine(of error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "unreadable"
    }

    /// The file's text; the reason in the system's words (`no such file or directory`) when it cannot be read.
    private static func read(_ path: String) throws(ConfigError) -> String {
        func failure(_ reason: String) -> ConfigError {
            ConfigError("cannot read config file '\(path)': \(reason); pass --config FILE")
        }
        let data: Data
        do {
            data = try SystemFile.contents(path)
        } catch {
            throw failure(error.description)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("not UTF-8 text") }
        return text
    }

    // MARK: Environment overrides

    private typealias Override = (key: String, apply: @Sendable (inout ClickattrConfig, String) throws(ConfigError) -> Void)

    /// Every scalar key (and the two lists, as comma lists) that an environment variable may override.
    private static let overrides: [Override] = [
        ("http.host", { c, v in c.http.host = v }),
        ("http.port", { c, v throws(ConfigError) in c.http.port = try int(v, "http.port") }),
        ("http.templates_dir", { c, v in c.http.templatesDirectory = v }),
        ("http.trust_forwarded_for", { c, v throws(ConfigError) in c.http.trustForwardedFor = try bool(v, "http.trust_forwarded_for") }),
        ("http.idle_timeout_s", { c, v throws(ConfigError) in c.http.idleTimeoutSeconds = try int(v, "http.idle_timeout_s") }),
        ("http.header_timeout_s", { c, v throws(ConfigError) in c.http.headerTimeoutSeconds = try int(v, "http.header_timeout_s") }),
        ("http.body_timeout_s", { c, v throws(ConfigError) in c.http.bodyTimeoutSeconds = try int(v, "http.body_timeout_s") }),
        ("http.max_connections", { c, v throws(ConfigError) in c.http.maxConnections = try int(v, "http.max_connections") }),
        ("http.orphan_visits_per_minute", { c, v throws(ConfigError) in c.http.orphanVisitsPerMinute = try int(v, "http.orphan_visits_per_minute") }),
        ("http.landing_csp", { c, v in c.http.landingContentSecurityPolicy = v }),
        ("http.tls.certificate_path", { c, v in c.http.tls.certificatePath = v }),
        ("http.tls.private_key_path", { c, v in c.http.tls.privateKeyPath = v }),
        ("storage.driver", { c, v in c.storage.driver = v }),
        ("storage.sqlite.path", { c, v in c.storage.sqlitePath = v }),
        ("storage.postgres.url", { c, v in c.storage.postgresURL = v }),
        ("storage.postgres.max_connections", { c, v throws(ConfigError) in c.storage.postgresMaxConnections = try int(v, "storage.postgres.max_connections") }),
        ("storage.spool.path", { c, v in c.storage.spoolPath = v }),
        ("storage.spool.max_bytes", { c, v throws(ConfigError) in c.storage.spoolMaxBytes = Int64(try int(v, "storage.spool.max_bytes")) }),
        ("storage.batch.max_size", { c, v throws(ConfigError) in c.storage.batch.maxSize = try int(v, "storage.batch.max_size") }),
        ("storage.batch.max_wait_ms", { c, v throws(ConfigError) in c.storage.batch.maxWaitMilliseconds = try int(v, "storage.batch.max_wait_ms") }),
        ("storage.batch.queue_capacity", { c, v throws(ConfigError) in c.storage.batch.queueCapacity = try int(v, "storage.batch.queue_capacity") }),
        ("webhook.path", { c, v in c.webhook.path = v }),
        ("webhook.verify_token", { c, v in c.webhook.verifyToken = v }),
        ("webhook.app_secret", { c, v in c.webhook.appSecret = v }),
        ("api.keys", { c, v in c.api.keys = list(v) }),
        ("attribution.window_days", { c, v throws(ConfigError) in c.attribution.windowDays = try int(v, "attribution.window_days") }),
        ("tracking.click_id_params", { c, v in c.tracking.clickIDParameters = list(v) }),
        ("privacy.ipv4_prefix", { c, v throws(ConfigError) in c.privacy.ipv4Prefix = try int(v, "privacy.ipv4_prefix") }),
        ("retention.days", { c, v throws(ConfigError) in c.retention.days = try int(v, "retention.days") }),
        ("privacy.ipv6_prefix", { c, v throws(ConfigError) in c.privacy.ipv6Prefix = try int(v, "privacy.ipv6_prefix") }),
        ("metrics.bearer_token", { c, v in c.metrics.bearerToken = v }),
        ("metrics.port", { c, v throws(ConfigError) in c.metrics.port = try int(v, "metrics.port") }),
    ]

    /// `CLICKATTR_` + the key path in upper case with `_` for `.`.
    public static func environmentName(for key: String) -> String {
        "CLICKATTR_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The environment variables that override the file, by name.
    public static var environmentNames: [String] { overrides.map { environmentName(for: $0.key) } }

    static func applyEnvironment(_ environment: [String: String], to config: inout ClickattrConfig) throws(ConfigError) {
        let known = Set(environmentNames)
        for name in environment.keys.sorted() where name.hasPrefix("CLICKATTR_") && !known.contains(name) {
            throw ConfigError("unknown environment variable \(name); the overridable keys are \(known.sorted().joined(separator: ", "))")
        }
        for (key, apply) in overrides {
            if let value = environment[environmentName(for: key)] {
                try apply(&config, value)
            }
        }
    }

    private static func int(_ value: String, _ key: String) throws(ConfigError) -> Int {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError("environment variable \(environmentName(for: key)) must be a whole number, not '\(value)'")
        }
        return number
    }

    private static func bool(_ value: String, _ key: String) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigError("environment variable \(environmentName(for: key)) must be true or false, not '\(value)'")
        }
    }

    private static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: Validation

    /// Paths the service answers itself; a route slug may not take them.
    static let reservedSlugs: Set<String> = ["api", "dashboard", "healthz", "readyz", "metrics", "webhooks"]

    public static func validate(_ config: ClickattrConfig) throws(ConfigError) {
        guard !config.http.host.isEmpty else { throw .invalid("http.host", "must not be empty") }
        guard (0...65535).contains(config.http.port) else { throw .invalid("http.port", "must be between 0 and 65535") }
        for (key, seconds) in [
            ("http.idle_timeout_s", config.http.idleTimeoutSeconds), ("http.header_timeout_s", config.http.headerTimeoutSeconds),
            ("http.body_timeout_s", config.http.bodyTimeoutSeconds),
        ] where !(1...3600).contains(seconds) {
            throw .invalid(key, "must be between 1 and 3600 seconds")
        }
        guard (1...1_000_000).contains(config.http.maxConnections) else {
            throw .invalid("http.max_connections", "must be between 1 and 1000000")
        }
        guard !config.http.landingContentSecurityPolicy.isEmpty,
            config.http.landingContentSecurityPolicy.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f })
        else {
            throw .invalid("http.landing_csp", "must be a Content-Security-Policy on one line of printable ASCII")
        }
        if config.http.tls.isEnabled, config.http.tls.certificatePath.isEmpty || config.http.tls.privateKeyPath.isEmpty {
            throw .invalid("http.tls", "certificate_path and private_key_path go together: set both, or neither for plain HTTP")
        }
        guard config.http.orphanVisitsPerMinute >= 0 else {
            throw .invalid("http.orphan_visits_per_minute", "must be 0 (store none) or more")
        }
        switch config.storage.driver {
        case "sqlite":
            guard !config.storage.sqlitePath.isEmpty else { throw .invalid("storage.sqlite.path", "must not be empty") }
        case "postgres":
            do {
                _ = try PostgresURL.configuration(config.storage.postgresURL)
            } catch {
                throw .invalid("storage.postgres.url", error.description)
            }
            guard (1...1000).contains(config.storage.postgresMaxConnections) else {
                throw .invalid("storage.postgres.max_connections", "must be between 1 and 1000")
            }
        default:
            throw .invalid("storage.driver", "must be sqlite or postgres, not '\(config.storage.driver)'")
        }
        guard !config.storage.spoolPath.isEmpty else { throw .invalid("storage.spool.path", "must not be empty") }
        guard config.storage.spoolMaxBytes >= 1 << 20 else {
            throw .invalid("storage.spool.max_bytes", "must be at least 1048576 (1 MiB)")
        }
        guard config.storage.batch.maxSize >= 1 else { throw .invalid("storage.batch.max_size", "must be at least 1") }
        guard (0...1000).contains(config.storage.batch.maxWaitMilliseconds) else {
            throw .invalid("storage.batch.max_wait_ms", "must be between 0 and 1000")
        }
        guard config.storage.batch.queueCapacity >= config.storage.batch.maxSize else {
            throw .invalid("storage.batch.queue_capacity", "must be at least storage.batch.max_size")
        }
        let webhookPath = config.webhook.path
        guard webhookPath.hasPrefix("/"), webhookPath.count > 1, webhookPath.allSatisfy(isPathCharacter) else {
            throw .invalid("webhook.path", "must be an absolute path such as /webhooks/whatsapp, not '\(webhookPath)'")
        }
        guard (1...3650).contains(config.attribution.windowDays) else {
            throw .invalid("attribution.window_days", "must be between 1 and 3650")
        }
        guard !config.tracking.clickIDParameters.isEmpty,
            config.tracking.clickIDParameters.allSatisfy({ !$0.isEmpty })
        else {
            throw .invalid("tracking.click_id_params", "must list at least one query parameter name")
        }
        guard (0...32).contains(config.privacy.ipv4Prefix) else {
            throw .invalid("privacy.ipv4_prefix", "must be between 0 (keep no address) and 32 (keep it whole)")
        }
        guard (0...128).contains(config.privacy.ipv6Prefix) else {
            throw .invalid("privacy.ipv6_prefix", "must be between 0 (keep no address) and 128 (keep it whole)")
        }
        if case let days = config.retention.days, days != 0 {
            do {
                try PurgeCommand.validate(days: days, config: config, flag: "retention.days")
            } catch {
                throw .invalid("retention.days", "must be between attribution.window_days + 1 and 36500, not \(days)")
            }
        }
        guard (0...65535).contains(config.metrics.port) else {
            throw .invalid("metrics.port", "must be between 1 and 65535, or 0 to serve /metrics on http.port")
        }
        if config.metrics.port != 0, config.metrics.port == config.http.port {
            throw .invalid("metrics.port", "must differ from http.port; leave it 0 to serve /metrics on http.port")
        }
        guard !config.metrics.bearerToken.contains(where: \.isWhitespace) else {
            throw .invalid("metrics.bearer_token", "must not contain spaces")
        }
        guard config.api.keys.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
            throw .invalid("api.keys", "must not contain empty keys or keys with spaces")
        }
        let webhookSegment = webhookPath.split(separator: "/").first.map(String.init) ?? ""
        var seen: Set<String> = []
        for (index, route) in config.routes.enumerated() {
            let key = "routes[\(index)]"
            guard !route.slug.isEmpty, route.slug.unicodeScalars.allSatisfy(isSlugCharacter) else {
                throw .invalid("\(key).slug", "must be letters, digits, '-', '_', '.' or '~', not '\(route.slug)'")
            }
            guard !reservedSlugs.contains(route.slug), route.slug != webhookSegment else {
                throw .invalid("\(key).slug", "'\(route.slug)' is used by clickattr itself; choose another")
            }
            guard seen.insert(route.slug).inserted else {
                throw .invalid("\(key).slug", "'\(route.slug)' is configured twice")
            }
            guard isDestination(route.destination) else {
                throw .invalid(
                    "\(key).destination", "must be an absolute http:// or https:// URL, not '\(route.destination)'")
            }
        }
    }

    private static func isPathCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "/-_.~".contains(c))
    }

    private static func isSlugCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || "-_.~".unicodeScalars.contains(scalar))
    }

    /// An absolute http(s) URL with a host, printable ASCII only, so it is safe in a Location header as is.
    static func isDestination(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }),
            let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}
