import AttributionCore
import Foundation
import GRDB
import Synchronization

/// One instance's own record of the visits it answered and has not yet shipped to the shared database: an
/// append-only SQLite table, written in group-committed, fsync'd transactions, with no index but the rowid. A
/// visit is here before its answer; the shipper copies batches to PostgreSQL and then forgets them.
///
/// Each spooled visit's key is the spool's own id (a UUID made when the file is created) and its rowid, which
/// `AUTOINCREMENT` never reuses: shipping the same rows twice (after a crash between the database's commit and
/// the spool's delete) stores them once. An instance holds an exclusive lock on its spool file for its life.
public final class VisitSpool: Sendable {
    public struct InUse: Error, CustomStringConvertible {
        public let description: String
    }

    /// Past `maxBytes` of unshipped visits, appends are refused (the visitor is still answered).
    public struct Full: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String
    public let maxBytes: Int64
    private let queue: DatabaseQueue
    private let lock: Int32
    private let identity: String
    /// Rows and bytes waiting to be shipped, kept in step with the table.
    private let pending: Mutex<(rows: Int, bytes: Int64)>

    public init(path: String, maxBytes: Int64) throws(StoreOpenError) {
        self.path = path
        self.maxBytes = maxBytes
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreOpenError(reason: systemReason(error))
        }
        // The lock is a file of its own: SQLite's locks come and go with transactions, this one lasts.
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw StoreOpenError(reason: systemReason(code: errno)) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            throw StoreOpenError(reason: "another clickattr instance is using this spool; give each instance its own")
        }
        self.lock = lock
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            // WAL, and every commit synced before it returns: a 302 means the visit is on this disk.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let (identity, rows, bytes) = try queue.write { db -> (String, Int, Int64) in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS spool_identity (id TEXT NOT NULL);
                        CREATE TABLE IF NOT EXISTS spooled_visits (
                            id INTEGER PRIMARY KEY AUTOINCREMENT,
                            bytes INTEGER NOT NULL,
                            visited_at INTEGER NOT NULL,
                            method TEXT NOT NULL,
                            path TEXT NOT NULL,
                            slug TEXT,
                            click_id TEXT,
                            click_parameters TEXT,
                            click_id_problem TEXT,
                            visitor_id TEXT,
                            user_agent TEXT,
                            referrer TEXT,
                            ip TEXT,
                            bot_reason TEXT
                        );
                        """)
                var identity = try String.fetchOne(db, sql: "SELECT id FROM spool_identity")
                if identity == nil {
                    identity = UUID().uuidString.lowercased()
                    try db.execute(sql: "INSERT INTO spool_identity (id) VALUES (?)", arguments: [identity])
                }
                let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(bytes), 0) FROM spooled_visits")!
                return (identity!, row[0], row[1])
            }
            self.identity = identity
            pending = Mutex((rows, bytes))
        } catch let error as DatabaseError {
            close(lock)
            throw StoreOpenError(reason: error.message ?? "SQLite error \(error.resultCode.rawValue)")
        } catch {
            close(lock)
            throw StoreOpenError(reason: "\(error)")
        }
    }

    deinit {
        close(lock)
    }

    /// Visits waiting to be shipped, and their size.
    public var depth: (rows: Int, bytes: Int64) { pending.withLock { $0 } }

    /// Appends visits in one fsync'd transaction; throws `Full` (storing none) when they would pass `maxBytes`.
    public func append(_ visits: [Visit]) async throws {
        guard !visits.isEmpty else { return }
        let sizes = visits.map(Self.size)
        let total = sizes.reduce(0, +)
        let admitted = pending.withLock { pending in
            guard pending.bytes + total <= maxBytes else { return false }
            pending.bytes += total
            pending.rows += visits.count
            return true
        }
        guard admitted else {
            throw Full(description: "the visit spool holds \(maxBytes) bytes not yet shipped (storage.spool.max_bytes)")
        }
        do {
            try await queue.write { db in
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO spooled_visits (bytes, visited_at, method, path, slug, click_id, click_parameters,
                            click_id_problem, visitor_id, user_agent, referrer, ip, bot_reason)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                var row = RawInsert(insert, in: db)
                for (visit, size) in zip(visits, sizes) {
                    try row.bind(size)
                    try row.bindVisit(visit)
                    try row.bind(visit.botReason)
                    try row.run()
                }
            }
        } catch {
            pending.withLock { pending in
                pending.bytes -= total
                pending.rows -= visits.count
            }
            throw error
        }
    }

    /// A batch of the oldest spooled visits, each with its key; `through` is the last rowid of the batch.
    public struct Batch: Sendable {
        public let visits: [(key: String?, visit: Visit)]
        let through: Int64
        let bytes: Int64
    }

    /// Up to `limit` of the oldest visits not yet forgotten; nil when the spool is empty.
    public func oldest(limit: Int) async throws -> Batch? {
        try await queue.read { db in
            var visits: [(key: String?, visit: Visit)] = []
            var through: Int64 = 0
            var bytes: Int64 = 0
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, bytes, visited_at, method, path, slug, click_id, click_parameters, click_id_problem,
                        visitor_id, user_agent, referrer, ip, bot_reason
                    FROM spooled_visits ORDER BY id LIMIT ?
                    """, arguments: [limit])
            while let row = try rows.next() {
                through = row[0]
                bytes += row[1] as Int64
                let visit = Visit(
                    visitedAt: row[2], method: row[3], path: row[4], slug: row[5], clickID: row[6],
                    clickParameters: ClickParameters.decode(row[7]),
                    clickIDProblem: (row[8] as String?).flatMap(ClickID.Problem.init(rawValue:)), visitorID: row[9],
                    userAgent: row[10], referrer: row[11], ip: row[12], botReason: row[13])
                visits.append((key: "\(identity):\(through)", visit: visit))
            }
            return visits.isEmpty ? nil : Batch(visits: visits, through: through, bytes: bytes)
        }
    }

    /// Forgets a batch once the shared database has committed it.
    public func forget(_ batch: Batch) async throws {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM spooled_visits WHERE id <= ?", arguments: [batch.through])
        }
        pending.withLock { pending in
            pending.rows -= batch.visits.count
            pending.bytes -= batch.bytes
        }
    }

    /// What a visit is counted as against `maxBytes`: its text, plus a row's overhead.
    static func size(_ visit: Visit) -> Int64 {
        let texts = [
            visit.method, visit.path, visit.slug, visit.clickID, visit.visitorID, visit.userAgent, visit.referrer,
            visit.ip, visit.botReason,
        ]
        let parameters = visit.clickParameters.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 }
        return Int64(texts.reduce(64) { $0 + ($1?.utf8.count ?? 0) } + parameters)
    }
}
