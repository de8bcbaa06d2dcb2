import AttributionServer
import ArgumentParser
import Logging

/// `clickattr import ...`
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay stored data through the ingest path, or copy an SQLite database into PostgreSQL.",
        subcommands: [Webhooks.self, SQLite.self])

    /// `clickattr import webhooks FILE`
    struct Webhooks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay raw webhook bodies, one JSON object a line; replaying twice changes nothing.")

        @Argument(help: "A file of raw webhook bodies, one a line.")
        var file: String

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try options.load()
            let summary = try await WebhookReplay.importFile(
                at: file, config: config, logger: Logger(label: "clickattr.import"))
            print(summary.description)
            if !summary.badLines.isEmpty {
                throw UsageError("\(summary.badLines.count) line(s) of \(file) were not imported (see above)")
            }
        }
    }

    /// `clickattr import sqlite FILE`
    struct SQLite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sqlite",
            abstract: "Copy a clickattr SQLite database into the configured PostgreSQL; running it again copies only what is missing.")

        @Argument(help: "The SQLite database file (storage.sqlite.path of the instance being moved).")
        var file: String

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try options.load()
            let summary = try await SQLiteImport.run(file: file, config: config, logger: Logger(label: "clickattr.import"))
            print(summary.description)
        }
    }
}
