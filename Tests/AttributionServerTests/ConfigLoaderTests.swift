import AttributionServer
import ClickattrTestSupport
import Foundation
import Testing
import Yams

@Suite struct ConfigLoaderTests {
    static let shipped = TestService.packageRoot.appendingPathComponent("config/clickattr.yaml").path

    @Test func theShippedFileLoadsWithTheContractDefaults() throws {
        let config = try ConfigLoader.load(path: Self.shipped, environment: [:])
        #expect(config.http.host == "127.0.0.1")
        #expect(config.http.port == 8080)
        #expect(config.storage.driver == "sqlite")
        #expect(config.storage.sqlitePath == "data/clickattr.sqlite")
        #expect(config.webhook.path == "/webhooks/whatsapp")
        #expect(config.attribution.windowDays == 7)
        #expect(config.tracking.clickIDParameters == ["click_id"])
        #expect(config.routes.first == Route(slug: "summer-sale", destination: "https://shop.example.com/summer?utm_source=whatsapp"))
        #expect(config.routes.contains { $0.mode == .landing })
    }

    @Test func theShippedFileNamesEveryContractKey() throws {
        let node = try #require(try Yams.compose(yaml: String(contentsOfFile: Self.shipped, encoding: .utf8)))
        var paths: Set<String> = []
        func walk(_ node: Node, _ prefix: String) {
            if let mapping = node.mapping {
                for (key, value) in mapping {
                    let path = prefix.isEmpty ? key.string! : "\(prefix).\(key.string!)"
                    paths.insert(path)
                    walk(value, path)
                }
            } else if let sequence = node.sequence {
                for item in sequence { walk(item, prefix + "[]") }
            }
        }
        walk(node, "")
        let contract = [
            "http.host", "http.port", "storage.driver", "storage.sqlite.path", "storage.postgres.url", "webhook.path",
            "webhook.verify_token", "webhook.app_secret", "api.keys", "attribution.window_days",
            "tracking.click_id_params", "routes[].slug", "routes[].destination", "routes[].mode",
            "routes[].passthrough_query", "retention.days", "storage.postgres.max_connections", "storage.spool.path",
            "storage.spool.max_bytes", "http.tls.certificate_path", "http.tls.private_key_path",
        ]
        for key in contract {
            #expect(paths.contains(key), "config/clickattr.yaml lacks \(key)")
        }
    }

    @Test func environmentVariablesOverrideScalarsAndLists() throws {
        let config = try ConfigLoader.load(
            path: Self.shipped,
            environment: [
                "CLICKATTR_HTTP_PORT": "9090", "CLICKATTR_WEBHOOK_APP_SECRET": "from-env",
                "CLICKATTR_API_KEYS": "key-one, key-two", "CLICKATTR_TRACKING_CLICK_ID_PARAMS": "click_id,fbclid",
                "CLICKATTR_STORAGE_SQLITE_PATH": "/tmp/x.sqlite", "PATH": "/usr/bin",
            ])
        #expect(config.http.port == 9090)
        #expect(config.webhook.appSecret == "from-env")
        #expect(config.api.keys == ["key-one", "key-two"])
        #expect(config.tracking.clickIDParameters == ["click_id", "fbclid"])
        #expect(config.storage.sqlitePath == "/tmp/x.sqlite")
        #expect(ConfigLoader.environmentNames.contains("CLICKATTR_WEBHOOK_VERIFY_TOKEN"))
    }

    @Test(arguments: [
        ("http:\n  prot: 8080\n", "unknown config key 'http.prot'"),
        ("storage:\n  sqlite:\n    pth: x\n", "unknown config key 'storage.sqlite.pth'"),
        ("htp:\n  port: 1\n", "unknown config key 'htp'"),
        ("routes:\n  - slug: a\n    destination: https://x.example\n    mode: bounce\n", "'routes[0].mode' must be redirect or landing"),
        ("routes:\n  - slug: a\n    destination: https://x.example\n    passthrough: true\n", "unknown config key 'routes[0].passthrough'"),
        ("http:\n  port: eighty\n", "'http.port' must be a whole number"),
        ("api:\n  keys: abc\n", "'api.keys' must be a list"),
        ("routes:\n  - destination: https://x.example\n", "'routes[0].slug' is required"),
        ("http: [1, 2\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("routes:\n  - slug: a\n    destination: javascript:alert(1)\n", "'routes[0].destination' must be an absolute http"),
        ("routes:\n  - slug: a\n    destination: https://x.example\n  - slug: a\n    destination: https://y.example\n", "'routes[1].slug' 'a' is configured twice"),
        ("routes:\n  - slug: api\n    destination: https://x.example\n", "'routes[0].slug' 'api' is used by clickattr"),
        ("routes:\n  - slug: a/b\n    destination: https://x.example\n", "'routes[0].slug' must be letters"),
        ("storage:\n  driver: mysql\n", "'storage.driver' must be sqlite or postgres"),
        ("storage:\n  driver: postgres\n", "'storage.postgres.url' is empty"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: mysql://u@h/db\n", "'storage.postgres.url' is not a postgres:// URL"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://h/db\n", "'storage.postgres.url' names no user"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://u@h:5432/\n", "'storage.postgres.url' names no database"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://u@h/db?sslmode=always\n", "has sslmode 'always'"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://u@h/db?sslmod=require\n", "has the parameter 'sslmod'"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://u@h/db\n    max_connections: 0\n", "'storage.postgres.max_connections' must be between 1"),
        ("storage:\n  driver: postgres\n  postgres:\n    url: postgres://u@h/db\n  spool:\n    max_bytes: 10\n", "'storage.spool.max_bytes' must be at least"),
        ("storage:\n  spool:\n    pth: x\n", "unknown config key 'storage.spool.pth'"),
        ("http:\n  port: 70000\n", "'http.port' must be between 0 and 65535"),
        ("webhook:\n  path: hooks\n", "'webhook.path' must be an absolute path"),
        ("privacy:\n  ipv4_prefix: 33\n", "'privacy.ipv4_prefix' must be between 0"),
        ("tracking:\n  click_id_params: []\n", "'tracking.click_id_params' must list at least one"),
    ])
    func aBadFileIsOneClearLine(yaml: String, expected: String) throws {
        let path = try Self.write(yaml)
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            Issue.record("expected an error containing \(expected)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func aMissingFileNamesTheFileAndTheFlag() {
        #expect {
            try ConfigLoader.load(path: "/nonexistent/clickattr.yaml", environment: [:])
        } throws: { error in
            let text = (error as? ConfigError)?.description ?? ""
            return text.contains("/nonexistent/clickattr.yaml") && text.contains("no such file or directory") && text.contains("--config")
        }
    }

    @Test func aDirectoryOrNonUTF8FileSaysWhy() throws {
        let directory = FileManager.default.temporaryDirectory.path
        #expect {
            try ConfigLoader.load(path: directory, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.description == "cannot read config file '\(directory)': is a directory; pass --config FILE"
        }
        let binary = try Scratch.directory("config").appendingPathComponent("clickattr.yaml")
        try Data([0xFF, 0xFE, 0x00]).write(to: binary)
        #expect {
            try ConfigLoader.load(path: binary.path, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.description.hasSuffix("': not UTF-8 text; pass --config FILE") == true
        }
        #expect(try ConfigLoader.load(path: "/dev/null", environment: [:]) == ClickattrConfig())
    }

    @Test func badOrUnknownEnvironmentVariablesAreErrors() throws {
        let path = try Self.write("")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path, environment: ["CLICKATTR_HTTP_PORT": "x"]) }
        #expect {
            try ConfigLoader.load(path: path, environment: ["CLICKATTR_WEBHOOK_APPSECRET": "s"])
        } throws: { error in
            (error as? ConfigError)?.description.contains("unknown environment variable CLICKATTR_WEBHOOK_APPSECRET") == true
        }
    }

    @Test func anEmptyFileMeansEveryDefault() throws {
        #expect(try ConfigLoader.load(path: try Self.write("# nothing\n"), environment: [:]) == ClickattrConfig())
    }

    static func write(_ text: String) throws -> String {
        let path = try Scratch.directory("config").appendingPathComponent("clickattr.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
