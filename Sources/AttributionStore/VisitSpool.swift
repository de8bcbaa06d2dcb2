import AttributionCore
import Foundation
import GRDB
import Synchronization

/// One instance's own record of the visits it answered and has not yet shipped to the database: an append-only
/// SQLite table with no index but the rowid, one row per group commit holding that commit's visits as compact
/// binary records (`SpoolRecord`), written in fsync'd transactions. A visit is here before its answer; the
/// shipper copies batches to the database and then forgets them. A commit costs one row's insert and the WAL's
/// append, whatever the number of visits in it.
///
/// Each spooled visit's key is the spool's own id (a UUID made when the file is created), its row's id, which
/// `AUTOINCREMENT` never reuses, and its place in the row: shipping the same rows twice (after a crash between the
/// database's commit and the spool's delete) stores them once. Spools written before batches were rows keep
/// their visits in `spooled_visits`, one row each; those are shipped first. An instance holds an exclusive lock
/// on its spool file for its life.
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
    /// A pool: the shipper reads batches on a reader connection, beside the visit writer's appends, not ahead of them.
    private let queue: DatabasePool
    /// The lock file's descriptor while this instance holds the spool.
    private let lock: Mutex<Int32?>
    private let identity: String
    /// Rows and bytes waiting to be shipped, kept in step with the table.
    private let pending: Mutex<(rows: Int, bytes: Int64)>
    /// The last spooled row appended, and the last one forgotten (shipped): a visit answered now is in the
    /// database once `forgotten` reaches the row that is `appended` now.
    private let marks: Mutex<(appended: Int64, forgotten: Int64)>

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
        self.lock = Mutex(lock)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            // WAL, and every commit synced before it returns: a 302 means the visit is on this disk.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            queue = try DatabasePool(path: path, configuration: configuration)
            let (identity, rows, bytes, first, last) = try queue.write { db -> (String, Int, Int64, Int64?, Int64) in
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
                        CREATE TABLE IF NOT EXISTS spooled_batches (
                            id INTEGER PRIMARY KEY AUTOINCREMENT,
                            visits INTEGER NOT NULL,
                            bytes INTEGER NOT NULL,
                            records BLOB NOT NULL
                        );
                        """)
                var identity = try String.fetchOne(db, sql: "SELECT id FROM spool_identity")
                if identity == nil {
                    identity = UUID().uuidString.lowercased()
                    try db.execute(sql: "INSERT INTO spool_identity (id) VALUES (?)", arguments: [identity])
                }
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT count(*) FROM spooled_visits) + (SELECT coalesce(sum(visits), 0) FROM spooled_batches),
                            (SELECT coalesce(sum(bytes), 0) FROM spooled_visits) + (SELECT coalesce(sum(bytes), 0) FROM spooled_batches)
                        """)!
                let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM spooled_batches")
                let last = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'spooled_batches'")
                return (identity!, row[0], row[1], first, last ?? 0)
            }
            self.identity = identity
            pending = Mutex((rows, bytes))
            marks = Mutex((last, first.map { $0 - 1 } ?? last))
        } catch let error as DatabaseError {
            close(lock)
            throw StoreOpenError(reason: error.message ?? "SQLite error \(error.resultCode.rawValue)")
        } catch {
            close(lock)
            throw StoreOpenError(reason: "\(error)")
        }
    }

    deinit {
        release()
    }

    /// Lets another instance (or a new one in this process) take the spool: called once nothing of this
    /// instance writes to it any more (by the shipper, the last to use it, once it has drained).
    public func release() {
        lock.withLock { descriptor in
            if let open = descriptor { close(open) }
            descriptor = nil
        }
    }

    /// Visits waiting to be shipped, and their size.
    public var depth: (rows: Int, bytes: Int64) { pending.withLock { $0 } }

    /// Appends visits in one fsync'd transaction; throws `Full` (storing none) when they would pass `maxBytes`.
    /// Runs on the calling thread.
    public func append(_ visits: [Visit]) throws {
        guard !visits.isEmpty else { return }
        var records: [UInt8] = []
        records.reserveCapacity(visits.count * 256)
        for visit in visits { SpoolRecord.append(visit, to: &records) }
        // What a visit is counted as against `maxBytes`: its record, plus a share of the row's overhead.
        let total = Int64(records.count + 16 * visits.count)
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
            let id = try queue.write { db in
                try db.cachedStatement(sql: "INSERT INTO spooled_batches (visits, bytes, records) VALUES (?, ?, ?)")
                    .execute(arguments: [visits.count, total, Data(records)])
                return db.lastInsertedRowID
            }
            marks.withLock { $0.appended = max($0.appended, id) }
        } catch {
            pending.withLock { pending in
                pending.bytes -= total
                pending.rows -= visits.count
            }
            throw error
        }
    }

    /// A batch of the oldest spooled visits: whole spooled rows as stored, or visits of an older spool's rows.
    public struct Batch: Sendable {
        /// The spool's identity, the first part of every visit's key.
        let identity: String
        /// Spooled rows as stored: id, number of visits, records (`SpoolRecord`).
        let rows: [(id: Int64, visits: Int, records: [UInt8])]
        /// Visits of an older spool's rows, one visit a row, with the row's id.
        let legacy: [(id: Int64, visit: Visit)]
        /// The last row of the batch, in the table it came from.
        let through: (legacy: Bool, id: Int64)
        let bytes: Int64
        /// How many visits the batch holds.
        public let count: Int

        /// The batch's visits, each with its key: `identity:row.index` (an older spool's: `identity:row`).
        public func visits() throws -> [(key: String?, visit: Visit)] {
            guard !through.legacy else { return legacy.map { (key: "\(identity):\($0.id)", visit: $0.visit) } }
            var visits: [(key: String?, visit: Visit)] = []
            visits.reserveCapacity(count)
            for row in rows {
                let prefix = "\(identity):\(row.id)."
                for (index, visit) in try SpoolRecord.decode(row.records, count: row.visits).enumerated() {
                    visits.append((key: prefix + String(index), visit: visit))
                }
            }
            return visits
        }

        /// The name under which a store marks how far it has shipped this batch's table of this spool.
        public var markName: String { through.legacy ? identity + "/legacy" : identity }
    }

    /// The oldest visits not yet forgotten: whole spooled rows, as many as reach `limit` visits (at least one
    /// row); nil when the spool is empty. The rows' records are decoded by whoever ships them.
    public func oldest(limit: Int) async throws -> Batch? {
        let identity = identity
        let (legacy, rows) = try await queue.read { db -> (Batch?, [(id: Int64, visits: Int, bytes: Int64, records: [UInt8])]) in
            if let legacy = try Self.oldestLegacy(db, limit: limit, identity: identity) { return (legacy, []) }
            var rows: [(id: Int64, visits: Int, bytes: Int64, records: [UInt8])] = []
            var count = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT id, visits, bytes, records FROM spooled_batches ORDER BY id")
            while count < limit, let row = try cursor.next() {
                let records: Data = row[3]
                rows.append((row[0], row[1], row[2], [UInt8](records)))
                count += row[1] as Int
            }
            return (nil, rows)
        }
        if let legacy { return legacy }
        guard let last = rows.last else { return nil }
        return Batch(
            identity: identity, rows: rows.map { ($0.id, $0.visits, $0.records) }, legacy: [],
            through: (false, last.id), bytes: rows.reduce(0) { $0 + $1.bytes }, count: rows.reduce(0) { $0 + $1.visits })
    }

    /// Visits spooled one to a row (by a clickattr before batches were rows), with their row's id.
    private static func oldestLegacy(_ db: Database, limit: Int, identity: String) throws -> Batch? {
        var visits: [(id: Int64, visit: Visit)] = []
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
            visits.append((id: through, visit: visit))
        }
        return visits.isEmpty
            ? nil
            : Batch(
                identity: identity, rows: [], legacy: visits, through: (true, through), bytes: bytes, count: visits.count)
    }

    /// Forgets a batch once the database has committed it.
    public func forget(_ batch: Batch) async throws {
        try await queue.write { db in
            let table = batch.through.legacy ? "spooled_visits" : "spooled_batches"
            try db.execute(sql: "DELETE FROM \(table) WHERE id <= ?", arguments: [batch.through.id])
        }
        pending.withLock { pending in
            pending.rows -= batch.count
            pending.bytes -= batch.bytes
        }
        if !batch.through.legacy { marks.withLock { $0.forgotten = max($0.forgotten, batch.through.id) } }
    }

    /// Where the spool stands: the last row appended and the last one shipped and forgotten.
    public var progress: (appended: Int64, forgotten: Int64) { marks.withLock { $0 } }
}
