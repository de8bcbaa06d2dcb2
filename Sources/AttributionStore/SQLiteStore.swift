import AttributionCore
import Foundation
import GRDB

/// The embedded default: one SQLite file in WAL mode, every commit synced to disk before it returns.
public final class SQLiteStore: Store {
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
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
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

    public func recordVisits(_ visits: [Visit]) async throws {
        guard !visits.isEmpty else { return }
        try await pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO visits (visited_at, method, path, slug, click_id, click_parameters,
                        click_id_problem, visitor_id, user_agent, referrer, ip, is_bot, bot_reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var row = RawInsert(insert, in: db)
            for visit in visits {
                try row.bindVisit(visit)
                try row.bind(visit.isBot)
                try row.bind(visit.botReason)
                try row.run()
            }
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
        try await pool.read { db in
            var rows: [ClickReportRow] = []
            var last: ReportCursor?
            let arguments: StatementArguments = [
                "window": query.windowMilliseconds, "from": query.from ?? Int64.min, "to": query.to ?? Int64.max,
                "afterTime": cursor?.clickedAt ?? Int64.min, "afterID": cursor?.id ?? Int64.min, "limit": limit,
            ]
            let cursorRows = try Row.fetchCursor(db, sql: SQLiteReportSQL.clicks, arguments: arguments)
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

    /// The orphan visits are counted on a second connection while the clicks are folded.
    public func summary(_ query: ReportQuery, groupBy keys: [SummaryReport.Key]) async throws -> SummaryReport {
        let range: StatementArguments = ["from": query.from ?? Int64.min, "to": query.to ?? Int64.max]
        async let orphans = pool.read { db in
            try Row.fetchAll(db, sql: SQLiteReportSQL.orphanVisits, arguments: range).map { row in
                (day: row["day"] as Int64, slug: row["slug"] as String?, visits: row["visits"] as Int)
            }
        }
        // A dimension not grouped by is not read.
        let reads = Set(keys)
        var summary = try await pool.read { db in
            var summary = SummaryReport(keys: keys)
            let clicks = try Row.fetchCursor(
                db, sql: SQLiteReportSQL.summaryClicks, arguments: range + ["window": query.windowMilliseconds])
            while let row = try clicks.next() {
                let clickedAt: Int64 = row[0]
                let firstVisitAt: Int64? = row[4]
                let conversions = ConversionTally(row[7])
                summary.add(
                    SummaryReport.Click(
                        clickedAt: clickedAt, clickComponent: reads.contains(.clickComponent) ? row[1] : nil,
                        productID: reads.contains(.productID) ? row[2] : nil, wabaID: reads.contains(.wabaID) ? row[3] : nil,
                        slug: reads.contains(.slug) ? row[5] : nil, firstVisitAt: firstVisitAt, botVisits: row[6],
                        conversions: conversions.count, conversionValues: conversions.values,
                        status: ClickReportRow.Status(
                            clickedAt: clickedAt, firstVisitAt: firstVisitAt,
                            windowMilliseconds: query.windowMilliseconds)))
            }
            return summary
        }
        for orphan in try await orphans {
            summary.addOrphanVisits(orphan.visits, visitedAt: orphan.day * 86_400_000, slug: orphan.slug)
        }
        return summary
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
