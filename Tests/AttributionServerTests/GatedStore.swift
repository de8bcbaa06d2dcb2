import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Logging
import Synchronization

/// A real SQLite store whose writes can be held shut, to let the write queues fill as under a burst.
final class GatedStore: Store {
    let base: SQLiteStore
    private let gate = Gate()

    init(base: SQLiteStore) {
        self.base = base
    }

    var heldWrites: Int { gate.waiting }

    /// While set, reading the change marks waits until the reader is cancelled: a database that does not answer.
    let hangsReads = Atomic<Bool>(false)

    func close() { gate.close() }

    func open() { gate.open() }

    func migrate() async throws { try await base.migrate() }
    func ingest(_ deliveries: [WebhookDelivery]) async throws -> [IngestOutcome] {
        await gate.pass()
        return try await base.ingest(deliveries)
    }
    func recordVisits(_ visits: [Visit]) async throws {
        await gate.pass()
        try await base.recordVisits(visits)
    }
    func recordConversion(_ conversion: Conversion, receivedAt: Int64, lookback: Int64) async throws
        -> ConversionOutcome
    {
        try await base.recordConversion(conversion, receivedAt: receivedAt, lookback: lookback)
    }
    func clickReportPage(_ query: ReportQuery, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    {
        try await base.clickReportPage(query, after: cursor, limit: limit)
    }
    func summaries(_ query: ReportQuery, of templates: [SummaryReport], partMilliseconds: Int64?) async throws
        -> [Int64: [SummaryReport]]
    {
        try await base.summaries(query, of: templates, partMilliseconds: partMilliseconds)
    }
    func changeMarks() async throws -> ChangeMarks {
        if hangsReads.load(ordering: .relaxed) { try await Task.sleep(for: .seconds(3_600)) }
        return try await base.changeMarks()
    }
    func changedHours(since marks: ChangeMarks) async throws -> Set<Int64> { try await base.changedHours(since: marks) }
    func latestClicks(_ query: ReportQuery, limit: Int) async throws -> [ClickReportRow] {
        try await base.latestClicks(query, limit: limit)
    }
    func checkReachable() async throws { try await base.checkReachable() }
    func counts() async throws -> StoreCounts { try await base.counts() }
    func recentVisits(limit: Int) async throws -> [Visit] { try await base.recentVisits(limit: limit) }
    func userActions(clickID: String) async throws -> [UserAction] { try await base.userActions(clickID: clickID) }
    func deliveryBody(sha256: String) async throws -> [UInt8]? { try await base.deliveryBody(sha256: sha256) }
    func purgeBatch(before cutoff: Int64, limit: Int) async throws -> PurgeCounts {
        try await base.purgeBatch(before: cutoff, limit: limit)
    }
    func vacuum() async throws { try await base.vacuum() }
}

/// Keeps every log message, so a test can see what an operator would read.
final class CapturedLog: Sendable {
    private let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    var entries: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] { lines.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "clickattr-test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            log.lines.withLock { $0.append((event.level, "\(event.message)", merged)) }
        }
    }
}
