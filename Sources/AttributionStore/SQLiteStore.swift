import AttributionCore
import Foundation
import GRDB

/// The embedded default: one SQLite file in WAL mode, every commit synced to disk before it returns.
public final class SQLiteStore: Store, SpoolDestination {
    private let pool: DatabasePool

    /// Opens (creating if needed) the database file and its directory; `StoreOpenError` says why it cannot.
    public init(path: String) throws(StoreOpenError) {
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB picks NORMAL for WAL; an answered webhook or redirect must survive a power cut, so FULL.
            // The writer keeps 32 MiB of pages (SQLite's default is 2 MiB): a shipped batch inserts thousands of
            // visits into the random click id index, whose pages were otherwise read back from the OS each time.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA cache_size = -32768")
            }
        } catch let error as DatabaseError {
            throw StoreOpenError(reason: error.message ?? "SQLite error \(error.resultCode.rawValue)")
        } catch {
            // The folder cannot be made; "file exists" there means a file stands where a folder should be.
            let code = systemErrorCode(error)
            throw StoreOpenError(reason: code == EEXIST ? systemReason(code: ENOTDIR) : systemReason(error))
        }
    }

    public func migrate() async throws {
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func ingest(_ deliveries: [WebhookDelivery]) async throws -> [IngestOutcome] {
        guard !deliveries.isEmpty else { return [] }
        return try await pool.write { db in
            let storeDelivery = try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_deliveries (body_sha256, body, received_at, last_received_at, source)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (body_sha256) DO UPDATE
                    SET receipts = receipts + 1, last_received_at = excluded.last_received_at
                    RETURNING id, receipts
                    """)
            let storeAction = try db.cachedStatement(
                sql: """
                    INSERT INTO user_actions (action_key, delivery_id, action_type, occurred_at, received_at,
                        waba_id, phone_number_id, display_phone_number, click_id, tracking_token,
                        click_component, product_id, raw)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (action_key) DO NOTHING
                    """)
            return try deliveries.map { delivery in
                let row = try Row.fetchOne(
                    storeDelivery,
                    arguments: [
                        delivery.bodySHA256, Data(delivery.body), delivery.receivedAt, delivery.receivedAt,
                        delivery.source.rawValue,
                    ])
                guard let row else { throw DatabaseError(message: "storing the delivery returned no row") }
                let deliveryID: Int64 = row["id"]
                let receipts: Int = row["receipts"]
                var stored = 0
                var insert = RawInsert(storeAction, in: db)
                for action in delivery.actions {
                    try insert.bind(action.key)
                    try insert.bind(deliveryID)
                    try insert.bind(action.actionType)
                    try insert.bind(action.occurredAt)
                    try insert.bind(delivery.receivedAt)
                    for text in [
                        action.wabaID, action.phoneNumberID, action.displayPhoneNumber, action.clickID,
                        action.trackingToken, action.clickComponent, action.productID, action.rawJSON,
                    ] {
                        try insert.bind(text)
                    }
                    stored += try insert.run()
                }
                return IngestOutcome(
                    newDelivery: receipts == 1, storedActions: stored,
                    duplicateActions: delivery.actions.count - stored)
            }
        }
    }

    private static let insertVisitSQL = """
        INSERT INTO visits (visited_at, method, path, slug, click_id, click_parameters,
            click_id_problem, visitor_id, user_agent, referrer, ip, is_bot, bot_reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    public func recordVisits(_ visits: [Visit]) async throws {
        guard !visits.isEmpty else { return }
        try await pool.write { db in
            var row = RawInsert(try db.cachedStatement(sql: Self.insertVisitSQL), in: db)
            for visit in visits {
                try row.bindVisit(visit)
                try row.run()
            }
        }
    }

    /// Ships a spooled batch in one transaction with the spool's mark (`spool_marks`: the last row shipped from
    /// it), skipping the rows at or below the mark: a batch shipped again after a crash, even with more rows,
    /// adds only what is new. Each record is bound where the spool's bytes hold it: no `Visit` or string is
    /// made for a visit.
    @discardableResult
    public func recordSpooled(_ batch: VisitSpool.Batch) async throws -> Int {
        try await pool.write { db in
            let mark = try Int64.fetchOne(
                db, sql: "SELECT shipped_through FROM spool_marks WHERE spool = ?", arguments: [batch.markName]) ?? 0
            var row = RawInsert(try db.cachedStatement(sql: Self.insertVisitSQL), in: db)
            var inserted = 0
            for (id, visit) in batch.legacy where id > mark {
                try row.bindVisit(visit)
                inserted += try row.run()
            }
            var scratch: [UInt8] = []
            for spooled in batch.rows where spooled.id > mark {
                try spooled.records.withUnsafeBufferPointer { records in
                    var cursor = SpoolRecord.Cursor(bytes: records)
                    for _ in 0..<spooled.visits {
                        try row.bindSpooledVisit(&cursor, scratch: &scratch)
                        inserted += try row.run()
                    }
                    guard cursor.atEnd else { throw SpoolRecord.Damaged() }
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO spool_marks (spool, shipped_through) VALUES (?, ?)
                    ON CONFLICT (spool) DO UPDATE SET shipped_through = max(shipped_through, excluded.shipped_through)
                    """, arguments: [batch.markName, batch.through.id])
            return inserted
        }
    }

    public func recordConversion(_ conversion: Conversion, receivedAt: Int64, lookback: Int64) async throws
        -> ConversionOutcome
    {
        try await pool.write { db in
            var clickID = conversion.clickID
            if clickID == nil, let visitorID = conversion.visitorID {
                clickID = try String.fetchOne(
                    db,
                    sql: """
                        SELECT click_id FROM visits
                        WHERE visitor_id = ? AND click_id IS NOT NULL AND is_bot = 0
                          AND visited_at <= ? AND visited_at >= ?
                        ORDER BY visited_at DESC, id DESC LIMIT 1
                        """,
                    arguments: [visitorID, conversion.occurredAt, conversion.occurredAt - lookback])
            }
            try db.execute(
                sql: """
                    INSERT INTO conversions (event, order_id, click_id, visitor_id, value_micros, currency,
                        occurred_at, received_at, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (event, order_id) DO NOTHING
                    """,
                arguments: [
                    conversion.event, conversion.orderID, clickID, conversion.visitorID, conversion.valueMicros,
                    conversion.currency, conversion.occurredAt, receivedAt, conversion.source.rawValue,
                ])
            if db.changesCount == 1 { return ConversionOutcome(created: true, clickID: clickID) }
            let stored = try String.fetchOne(
                db, sql: "SELECT click_id FROM conversions WHERE event = ? AND order_id = ?",
                arguments: [conversion.event, conversion.orderID])
            return ConversionOutcome(created: false, clickID: stored)
        }
    }

    public func clickReportPage(_ query: ReportQuery, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    {
        try await clickRows(query, sql: SQLiteReportSQL.clicks, after: cursor, limit: limit)
    }

    public func latestClicks(_ query: ReportQuery, limit: Int) async throws -> [ClickReportRow] {
        let start = ReportCursor(clickedAt: Int64.max, id: Int64.max)
        return try await clickRows(query, sql: SQLiteReportSQL.latestClicks, after: start, limit: limit).rows
    }

    private func clickRows(_ query: ReportQuery, sql: String, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    {
        try await pool.read { db in
            var rows: [ClickReportRow] = []
            var last: ReportCursor?
            let arguments: StatementArguments = [
                "window": query.windowMilliseconds, "from": query.from ?? Int64.min, "to": query.to ?? Int64.max,
                "afterTime": cursor?.clickedAt ?? Int64.min, "afterID": cursor?.id ?? Int64.min, "limit": limit,
            ]
            let cursorRows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try cursorRows.next() {
                // By position, in the order of `SQLiteReportSQL.clicks`: names would be looked up for every row.
                let clickedAt: Int64 = row[2]
                let conversions = ConversionTally(row[13])
                rows.append(
                    ClickReportRow(
                        clickID: row[1], clickedAt: clickedAt, clickComponent: row[3], productID: row[4],
                        trackingToken: row[5], wabaID: row[6], phoneNumberID: row[7], firstVisitAt: row[8],
                        visits: row[10], botVisits: row[11], landingPageViewed: row[12], conversions: conversions.count,
                        conversionValues: conversions.values, windowMilliseconds: query.windowMilliseconds,
                        slug: row[9]))
                last = ReportCursor(clickedAt: clickedAt, id: row[0])
            }
            return (rows, rows.count == limit ? last : nil)
        }
    }

    /// One pass in slices: the range is cut into one slice per core, and each slice's clicks (with their visits,
    /// from a covering index) and orphan visits are read on their own connection at the same time.
    public func summaries(_ query: ReportQuery, of templates: [SummaryReport], partMilliseconds: Int64?) async throws
        -> [Int64: [SummaryReport]]
    {
        let window = query.windowMilliseconds
        let bounds = try await pool.read { db in
            try Row.fetchOne(db, sql: SQLiteReportSQL.clickTimeBounds, arguments: Self.range(query.from, query.to))
        }
        let low: Int64? = bounds?[0]
        let high: Int64? = bounds?[1]
        // Clicks are cut by time into slices of equal length; orphans by the same cuts of the visit times.
        var cuts: [Int64] = [query.from ?? Int64.min]
        if let low, let high, high > low {
            let slices = Int64(max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)))
            let step = (high - low) / slices + 1
            for index in 1..<slices { cuts.append(low + step * index) }
        }
        cuts.append(query.to ?? Int64.max)
        let pool = self.pool
        return try await withThrowingTaskGroup(of: SummaryPass.self) { group in
            for (from, to) in zip(cuts, cuts.dropFirst()) where from < to {
                group.addTask {
                    try await pool.read { db in
                        var pass = SummaryPass(templates: templates, partMilliseconds: partMilliseconds)
                        try Self.summarySlice(db, from: from, to: to, window: window, into: &pass)
                        return pass
                    }
                }
                group.addTask {
                    try await pool.read { db in
                        var pass = SummaryPass(templates: templates, partMilliseconds: partMilliseconds)
                        let orphans = try Row.fetchCursor(
                            db, sql: SQLiteReportSQL.orphanVisits, arguments: Self.range(from, to))
                        while let row = try orphans.next() {
                            pass.addOrphanVisits(row[2], visitedAt: (row[0] as Int64) * 3_600_000, slug: row[1])
                        }
                        return pass
                    }
                }
            }
            var total = SummaryPass(templates: templates, partMilliseconds: partMilliseconds)
            for try await slice in group { total.merge(slice) }
            return total.parts
        }
    }

    private static func range(_ from: Int64?, _ to: Int64?) -> StatementArguments {
        ["from": from ?? Int64.min, "to": to ?? Int64.max]
    }

    /// The clicks of `from..<to`, each folded with its visits (the rows of one click come together) and the
    /// conversions of its window.
    private static func summarySlice(
        _ db: Database, from: Int64, to: Int64, window: Int64, into pass: inout SummaryPass
    ) throws {
        var conversions = ConversionsByClick()
        let times = ConversionsByClick.times(clicksFrom: from, to: to, windowMilliseconds: window)
        let conversionRows = try Row.fetchCursor(
            db, sql: SQLiteReportSQL.conversionsOfRange, arguments: ["from": times.lowerBound, "to": times.upperBound])
        while let row = try conversionRows.next() {
            conversions.add(clickID: row[0], occurredAt: row[1], currency: row[2], micros: row[3])
        }
        var current: (id: Int64, clickID: String, clickedAt: Int64, component: String?, product: String?, waba: String?)?
        var visits = VisitFold()
        func finish() {
            guard let click = current else { return }
            let tally = conversions.tally(clickID: click.clickID, clickedAt: click.clickedAt, windowMilliseconds: window)
            let first = visits.first
            pass.add(
                SummaryReport.Click(
                    clickedAt: click.clickedAt, clickComponent: click.component, productID: click.product,
                    wabaID: click.waba, slug: first?.slug, firstVisitAt: first?.visitedAt, botVisits: visits.botVisits,
                    conversions: tally.count, conversionValues: tally.values,
                    status: ClickReportRow.Status(
                        clickedAt: click.clickedAt, firstVisitAt: first?.visitedAt, windowMilliseconds: window)))
        }
        // By position, in the order of `SQLiteReportSQL.summaryClicks`.
        let rows = try Row.fetchCursor(db, sql: SQLiteReportSQL.summaryClicks, arguments: range(from, to))
        while let row = try rows.next() {
            let id: Int64 = row[0]
            if current?.id != id {
                finish()
                current = (id, row[1], row[2], row[3], row[4], row[5])
                visits = VisitFold()
            }
            if let visitID: Int64 = row[6] {
                visits.add(id: visitID, isBot: row[7], visitedAt: row[8], slug: row[9])
            }
        }
        finish()
    }

    public func changeMarks() async throws -> ChangeMarks {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: ChangeSQL.marks)!
            return ChangeMarks(actions: row[0], visits: row[1], conversions: row[2], purges: row[3])
        }
    }

    public func changedHours(since marks: ChangeMarks) async throws -> Set<Int64> {
        try await pool.read { db in
            Set(
                try Int64.fetchAll(
                    db, sql: ChangeSQL.sqlite.changedHours,
                    arguments: ["actions": marks.actions, "visits": marks.visits, "conversions": marks.conversions]))
        }
    }

    public func purgeBatch(before cutoff: Int64, limit: Int) async throws -> PurgeCounts {
        try await pool.write { db in
            var counts = PurgeCounts()
            let arguments: StatementArguments = ["cutoff": cutoff, "limit": limit]
            func delete(_ sql: String, _ extra: StatementArguments = [:]) throws -> Int {
                try db.execute(sql: sql, arguments: arguments + extra)
                return db.changesCount
            }
            try db.execute(sql: PurgeSQL.createNotedSQLite)
            try db.execute(sql: "DELETE FROM temp.purged_clicks")
            try db.execute(sql: PurgeSQL.sqlite.noteClicks, arguments: arguments)
            counts.clicks = try delete(PurgeSQL.sqlite.deleteClicks)
            counts.visits = try delete(PurgeSQL.sqlite.deleteJoinedVisits)
            counts.conversions = try delete(PurgeSQL.sqlite.deleteJoinedConversions)
            counts.otherActions = try delete(PurgeSQL.sqlite.deleteJoinedLandingPageViews)
            counts.visits += try delete(PurgeSQL.sqlite.deleteOrphanVisits)
            for type in try String.fetchAll(db, sql: PurgeSQL.sqlite.otherActionTypes) {
                counts.otherActions += try delete(PurgeSQL.sqlite.deleteOtherActions, ["type": type])
            }
            counts.conversions += try delete(PurgeSQL.sqlite.deleteOrphanConversions)
            counts.deliveries = try delete(PurgeSQL.sqlite.deleteDeliveries)
            if counts.total > 0 { try db.execute(sql: ChangeSQL.notePurge) }
            return counts
        }
    }

    public func vacuum() async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
    }

    public func checkReachable() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func counts() async throws -> StoreCounts {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM webhook_deliveries) AS deliveries,
                           (SELECT count(*) FROM user_actions) AS actions,
                           (SELECT count(*) FROM visits) AS visits,
                           (SELECT count(*) FROM conversions) AS conversions
                    """)!
            return StoreCounts(
                deliveries: row["deliveries"], userActions: row["actions"], visits: row["visits"],
                conversions: row["conversions"])
        }
    }

    public func recentVisits(limit: Int) async throws -> [Visit] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM visits ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                row in
                Visit(
                    visitedAt: row["visited_at"], method: row["method"], path: row["path"], slug: row["slug"],
                    clickID: row["click_id"], clickParameters: ClickParameters.decode(row["click_parameters"]),
                    clickIDProblem: (row["click_id_problem"] as String?).flatMap(ClickID.Problem.init(rawValue:)),
                    visitorID: row["visitor_id"], userAgent: row["user_agent"], referrer: row["referrer"],
                    ip: row["ip"], botReason: row["bot_reason"])
            }
        }
    }

    public func userActions(clickID: String) async throws -> [UserAction] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM user_actions WHERE click_id = ? ORDER BY occurred_at, id",
                arguments: [clickID]
            ).map { row in
                UserAction(
                    key: row["action_key"], actionType: row["action_type"], occurredAt: row["occurred_at"],
                    wabaID: row["waba_id"], phoneNumberID: row["phone_number_id"],
                    displayPhoneNumber: row["display_phone_number"], clickID: row["click_id"],
                    trackingToken: row["tracking_token"], clickComponent: row["click_component"],
                    productID: row["product_id"], rawJSON: row["raw"])
            }
        }
    }

    public func deliveryBody(sha256: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT body FROM webhook_deliveries WHERE body_sha256 = ?", arguments: [sha256])
                .map { Array($0) }
        }
    }
}
