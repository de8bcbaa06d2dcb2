import AttributionCore
import Foundation
import GRDB
import Synchronization

/// One instance's own record of the visits it answered and has not yet shipped to the database. Each group commit's
/// visits are one frame of compact binary records (`SpoolRecord`) appended to the spool's log (`SpoolLog`,
/// segment files beside the spool's SQLite file) and synced before any of them is answered; the shipper copies
/// batches of frames to the database and then forgets them. A commit costs its bytes and one `fdatasync`, whatever
/// the number of visits in it, and no database page.
///
/// The SQLite file at the spool's path keeps the log's identity (a UUID made when the log is started) and how far
/// it has been shipped, and the visits spooled by earlier clickattrs in its tables (`spooled_batches`, one row per
/// commit, and before those `spooled_visits`, one row per visit): those are shipped first, under the identity and
/// keys they always had. Each visit's key is its log's identity, its frame's number, which is never reused, and
/// its place in the frame: shipping the same frames twice (after a crash between the database's commit and the
/// spool's forgetting them) stores them once. An instance holds an exclusive lock on its spool for its life.
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
    /// The spool's SQLite file: the log's identity and progress, and visits spooled by earlier clickattrs.
    private let queue: DatabasePool
    private let log: SpoolLog
    /// The log's identity, the first part of its visits' keys.
    private let logIdentity: String
    /// Whether the SQLite file may still hold visits of an earlier clickattr (shipped before the log's).
    private let tablesHoldVisits: Mutex<Bool>
    /// The lock file's descriptor while this instance holds the spool.
    private let lock: Mutex<Int32?>
    private let identity: String
    /// Visits and bytes waiting to be shipped, in the tables and the log.
    private let pending: Mutex<(rows: Int, bytes: Int64)>
    /// The last frame appended to the log, and the last one forgotten (shipped): a visit answered now is in the
    /// database once `forgotten` reaches the frame that is `appended` now.
    private let marks: Mutex<(appended: Int64, forgotten: Int64)>

    /// `segmentBytes`: the size past which the log goes on in a new segment file.
    public init(path: String, maxBytes: Int64, segmentBytes: Int64 = 16 << 20) throws(StoreOpenError) {
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
        // A moment's patience: an instance restarted at once may find the one before still exiting (or a
        // process of its own being started, which holds the descriptor until it runs its program).
        var held = flock(lock, LOCK_EX | LOCK_NB) == 0
        for _ in 0..<40 where !held {
            usleep(50_000)
            held = flock(lock, LOCK_EX | LOCK_NB) == 0
        }
        guard held else {
            close(lock)
            throw StoreOpenError(reason: "another clickattr instance is using this spool; give each instance its own")
        }
        self.lock = Mutex(lock)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            // No visit is written here any more, only how far the log is shipped: GRDB's WAL default (synchronous
            // NORMAL) may lose the last such mark to a power cut, and its frames are then shipped again and
            // recognised by the database. (Earlier clickattrs set FULL in `prepareDatabase`, which GRDB then
            // overrode: their spooled rows were not synced commit by commit.)
            queue = try DatabasePool(path: path, configuration: configuration)
            let (identity, logState, rows, bytes) = try queue.write { db -> (String, (identity: String, shipped: Int64), Int, Int64) in
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
                        CREATE TABLE IF NOT EXISTS spool_log (identity TEXT NOT NULL, shipped_through INTEGER NOT NULL);
                        """)
                var identity = try String.fetchOne(db, sql: "SELECT id FROM spool_identity")
                if identity == nil {
                    identity = UUID().uuidString.lowercased()
                    try db.execute(sql: "INSERT INTO spool_identity (id) VALUES (?)", arguments: [identity])
                }
                // The log has an identity of its own: an earlier clickattr started on this spool again goes on
                // numbering its rows where it left off, and none of its keys can meet the log's.
                var log = try Row.fetchOne(db, sql: "SELECT identity, shipped_through FROM spool_log")
                    .map { (identity: $0[0] as String, shipped: $0[1] as Int64) }
                if log == nil {
                    log = (UUID().uuidString.lowercased(), 0)
                    try db.execute(
                        sql: "INSERT INTO spool_log (identity, shipped_through) VALUES (?, 0)", arguments: [log!.identity])
                }
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT count(*) FROM spooled_visits) + (SELECT coalesce(sum(visits), 0) FROM spooled_batches),
                            (SELECT coalesce(sum(bytes), 0) FROM spooled_visits) + (SELECT coalesce(sum(bytes), 0) FROM spooled_batches)
                        """)!
                return (identity!, log!, row[0], row[1])
            }
            self.identity = identity
            logIdentity = logState.identity
            log = try SpoolLog(spoolPath: path, shippedThrough: logState.shipped, segmentBytes: segmentBytes)
            let waiting = log.waiting
            tablesHoldVisits = Mutex(rows > 0)
            pending = Mutex((rows + waiting.visits, bytes + waiting.bytes))
            let appended = log.lastNumber
            marks = Mutex((appended, log.oldestWaiting.map { $0 - 1 } ?? appended))
        } catch let error as StoreOpenError {
            close(lock)
            throw error
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
        log.close()
        lock.withLock { descriptor in
            if let open = descriptor { close(open) }
            descriptor = nil
        }
    }

    /// Visits waiting to be shipped, and their size.
    public var depth: (rows: Int, bytes: Int64) { pending.withLock { $0 } }

    /// Appends visits as one frame of the log, synced before it returns; throws `Full` (storing none) when they
    /// would pass `maxBytes`. Runs on the calling thread.
    public func append(_ visits: [Visit]) throws {
        guard !visits.isEmpty else { return }
        var frame = [UInt8](repeating: 0, count: SpoolLog.headerSize)
        frame.reserveCapacity(visits.count * 256)
        for visit in visits { SpoolRecord.append(visit, to: &frame) }
        let total = SpoolLog.bytes(length: frame.count - SpoolLog.headerSize, visits: visits.count)
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
            let number = try log.append(&frame, visits: visits.count)
            marks.withLock { $0.appended = max($0.appended, number) }
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
        /// The last row of the batch, in the table it came from, or its last frame of the log.
        let through: (legacy: Bool, id: Int64)
        /// Whether the batch is frames of the log (or rows of the spool's tables).
        let fromLog: Bool
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

    /// The oldest visits not yet forgotten: whole spooled rows or frames, as many as reach `limit` visits (at least
    /// one); nil when the spool is empty. The records are decoded by whoever ships them.
    public func oldest(limit: Int) async throws -> Batch? {
        if tablesHoldVisits.withLock({ $0 }) {
            if let batch = try await oldestInTables(limit: limit) { return batch }
            tablesHoldVisits.withLock { $0 = false }
        }
        let frames = try log.oldest(limit: limit)
        guard let last = frames.last else { return nil }
        return Batch(
            identity: logIdentity, rows: frames.map { ($0.frame.number, $0.frame.visits, $0.records) }, legacy: [],
            through: (false, last.frame.number), fromLog: true,
            bytes: frames.reduce(0) { $0 + SpoolLog.bytes(length: $1.frame.length, visits: $1.frame.visits) },
            count: frames.reduce(0) { $0 + $1.frame.visits })
    }

    /// The oldest rows of the spool's tables, written by an earlier clickattr.
    private func oldestInTables(limit: Int) async throws -> Batch? {
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
            through: (false, last.id), fromLog: false, bytes: rows.reduce(0) { $0 + $1.bytes },
            count: rows.reduce(0) { $0 + $1.visits })
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
                identity: identity, rows: [], legacy: visits, through: (true, through), fromLog: false, bytes: bytes,
                count: visits.count)
    }

    /// Forgets a batch once the database has committed it.
    public func forget(_ batch: Batch) async throws {
        if batch.fromLog {
            // How far the log is shipped is on disk before its segments go: frames found again after a crash
            // are shipped again, and the database recognises them.
            try await queue.write { db in
                try db.execute(
                    sql: "UPDATE spool_log SET shipped_through = max(shipped_through, ?)", arguments: [batch.through.id])
            }
            log.forget(through: batch.through.id)
            marks.withLock { $0.forgotten = max($0.forgotten, batch.through.id) }
        } else {
            try await queue.write { db in
                let table = batch.through.legacy ? "spooled_visits" : "spooled_batches"
                try db.execute(sql: "DELETE FROM \(table) WHERE id <= ?", arguments: [batch.through.id])
            }
        }
        pending.withLock { pending in
            pending.rows -= batch.count
            pending.bytes -= batch.bytes
        }
    }

    /// The log's segment files on disk, oldest first.
    public var logSegments: [String] { log.segmentPaths }

    /// Where the spool stands: the last frame appended and the last one shipped and forgotten.
    public var progress: (appended: Int64, forgotten: Int64) { marks.withLock { $0 } }
}
