import AttributionServer
import ArgumentParser
import AttributionStore
import Foundation

/// `clickattr report ...`
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export attribution reports.", subcommands: [Clicks.self, Summary.self])

    /// The options every report takes.
    struct Options: ParsableArguments {
        @OptionGroup var config: ConfigOption

        @Option(help: "Click time from (inclusive), ISO 8601: 2026-11-28 or 2026-11-28T10:00:00Z.")
        var from: String?

        @Option(help: "Click time to (exclusive), ISO 8601.")
        var to: String?

        @Option(help: "csv, json or ndjson.")
        var format: String = "csv"

        @Option(help: "Write to this file instead of standard output.")
        var output: String?

        /// Opens the destination: standard output, or the file (created or truncated).
        func destination() throws -> FileHandle {
            guard let output else { return FileHandle.standardOutput }
            do {
                return try SystemFile.writing(output)
            } catch {
                throw UsageError("cannot write '\(output)': \(error)")
            }
        }
    }

    /// Runs a report with the common options: config, range, format, output.
    static func run(
        _ options: Options,
        produce: (any Store, Reports.Request, (String) async throws -> Void) async throws -> Int
    ) async throws {
        let config = try options.config.load()
        let request = try Reports.Request(
            from: options.from, to: options.to, format: options.format,
            windowMilliseconds: config.attribution.windowMilliseconds)
        let store = try makeStore(config: config)
        try await store.migrate()
        let output = try options.destination()
        defer { try? output.close() }
        _ = try await produce(store, request) { chunk in
            try output.write(contentsOf: Data(chunk.utf8))
        }
    }

    /// `clickattr report summary`
    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clicks, visit and conversion rates and click-to-visit latency, in total or by group.")

        @OptionGroup var options: Options

        @Option(name: .customLong("group-by"), help: "Comma list of day, product_id, click_component, slug, waba_id.")
        var groupBy: String?

        func run() async throws {
            let keys = try Reports.groupKeys(groupBy)
            try await Report.run(options) { store, request, write in
                try await Reports.summary(store: store, request: request, groupBy: keys, write: write)
            }
        }
    }

    /// `clickattr report clicks`
    struct Clicks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One row per click event, joined with its visits and conversions.")

        @OptionGroup var options: Options

        func run() async throws {
            try await Report.run(options) { store, request, write in
                try await Reports.clicks(store: store, request: request, write: write)
            }
        }
    }
}
