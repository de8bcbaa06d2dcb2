import AttributionStore
import Logging

/// `clickattr import sqlite FILE`: copies a clickattr SQLite database into the configured PostgreSQL, in pages,
/// each page one transaction. Every row keeps a key (body hash, action key, a visit's or conversion's import
/// key), so running it again, or after an interruption, copies only what is missing.
public enum SQLiteImport {
    public struct Summary: CustomStringConvertible, Sendable {
        public var deliveries = (read: 0, new: 0)
        public var actions = (read: 0, new: 0)
        public var visits = (read: 0, new: 0)
        public var conversions = (read: 0, new: 0)

        public var description: String {
            [
                ("webhook deliveries", deliveries), ("user actions", actions), ("visits", visits),
                ("conversions", conversions),
            ].map { "\($0.0): \($0.1.read) read, \($0.1.new) new" }.joined(separator: "\n")
        }
    }

    public static func run(file: String, config: ClickattrConfig, logger: Logger, pageSize: Int = 1_000) async throws
        -> Summary
    {
        guard config.storage.driver == "postgres" else {
            throw UsageError("import sqlite copies into PostgreSQL: set storage.driver: postgres and storage.postgres.url")
        }
        let source: SQLiteExport
        do {
            source = try SQLiteExport(path: file)
        } catch {
            throw UsageError("cannot import \(file): \(error)")
        }
        let store = try makeStore(config: config, logger: logger)
        try await prepare(store, config: config)
        guard let postgres = store as? PostgresStore else {
            throw UsageError("import sqlite copies into PostgreSQL: set storage.driver: postgres")
        }
        var summary = Summary()
        var after: Int64 = 0
        while true {
            let page = try await source.deliveries(after: after, limit: pageSize)
            guard let last = page.last?.id else { break }
            let added = try await postgres.importDeliveries(page)
            summary.deliveries.read += page.count
            summary.deliveries.new += added.deliveries
            summary.actions.read += page.reduce(0) { $0 + $1.actions.count }
            summary.actions.new += added.actions
            after = last
        }
        after = 0
        while true {
            let page = try await source.visits(after: after, limit: pageSize * 5)
            guard !page.visits.isEmpty else { break }
            summary.visits.read += page.visits.count
            summary.visits.new += try await postgres.recordVisits(page.visits)
            after = page.last
        }
        after = 0
        while true {
            let page = try await source.conversions(after: after, limit: pageSize)
            guard !page.conversions.isEmpty else { break }
            summary.conversions.read += page.conversions.count
            summary.conversions.new += try await postgres.importConversions(page.conversions)
            after = page.last
        }
        return summary
    }
}
