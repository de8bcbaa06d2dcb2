import AttributionCore
import Logging
import Synchronization
import NIOCore
import PostgresNIO

/// The shared store of several instances: PostgreSQL through PostgresNIO's pooled client. Idempotency comes from
/// unique constraints (`ON CONFLICT`), never from a read before a write, so instances racing on the same
/// delivery or conversion store it once.
public final class PostgresStore: Store, SpoolDestination {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// How long a write may take before it is reported as failed (the database unreachable).
    let writeTimeout: Duration
    /// One connection of its own, for checking at start that the server takes the login.
    private let probe: PostgresConnection.Configuration

    /// Checks the URL and starts the pool; nothing is connected until the first query (`migrate` at start).
    public init(url: String, maxConnections: Int, logger: Logger, writeTimeout: Duration = .seconds(5))
        throws(PostgresURL.Invalid)
    {
        let configurations = try PostgresURL.configurations(url)
        var configuration = configurations.client
        configuration.options.maximumConnections = maxConnections
        probe = configurations.connection
        // Each failed connection attempt is the pool's to log; the service logs when writes fail and recover.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        self.logger = logger
        self.writeTimeout = writeTimeout
        runner = Task { await client.run() }
    }

    deinit {
        runner.cancel()
    }

    // MARK: Schema

    public func migrate() async throws {
        try await checkLogin()
        try await explained {
            try await client.withConnection { connection in
                // Instances starting together take turns; the second finds the work done.
                try await connection.query("SELECT pg_advisory_lock(\(PostgresMigrations.lockKey))", logger: logger)
                do {
                    try await applyMigrations(on: connection)
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresMigrations.lockKey))", logger: logger)
                    throw error
                }
                try await connection.query("SELECT pg_advisory_unlock(\(PostgresMigrations.lockKey))", logger: logger)
            }
        }
    }

    private func applyMigrations(on connection: PostgresConnection) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: PostgresMigrations.table), logger: logger)
        var applied: Int32 = 0
        for try await version in try await connection.query(
            "SELECT coalesce(max(version), 0)::integer FROM clickattr_schema", logger: logger
        ).decode(Int32.self) {
            applied = version
        }
        for migration in PostgresMigrations.all where migration.version > applied {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO clickattr_schema (version, description) VALUES (\(Int32(migration.version)), \(migration.description))",
                    logger: logger)
            }
            logger.info("database migrated", metadata: ["version": "\(migration.version)", "migration": "\(migration.description)"])
        }
    }

    /// Connects once, outside the pool: a server that cannot be reached or refuses the login is reported with
    /// its reason at once (the pool would retry quietly until its circuit breaker trips, about a minute later).
    public func checkLogin() async throws {
        try await explained {
            let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
            try await connection.close()
        }
    }

    // MARK: Writes

    public func ingest(_ deliveries: [WebhookDelivery]) async throws -> [IngestOutcome] {
        guard !deliveries.isEmpty else { return [] }
        return try await retryingTransaction { [self] connection in
            // Instances racing on overlapping deliveries take rows in one global order, so they wait for each
            // other instead of deadlocking: first every delivery row by body hash (an earlier copy in the batch
            // before a later one), then every action by key.
            var receipts = [(id: Int64, receipts: Int32)?](repeating: nil, count: deliveries.count)
            let byHash = deliveries.indices.sorted {
                (deliveries[$0].bodySHA256, $0) < (deliveries[$1].bodySHA256, $1)
            }
            for index in byHash {
                receipts[index] = try await storeDelivery(deliveries[index], on: connection)
            }
            // An action is offered once, by the first delivery of the batch that holds it (as SQLite stores it).
            var owner: [String: Int] = [:]
            var offered: [(action: UserAction, delivery: Int)] = []
            for (index, delivery) in deliveries.enumerated() {
                for action in delivery.actions where owner[action.key] == nil {
                    owner[action.key] = index
                    offered.append((action, index))
                }
            }
            offered.sort { $0.action.key < $1.action.key }
            var stored = [Int](repeating: 0, count: deliveries.count)
            let rows = offered.map { ($0.action, receipts[$0.delivery]!.id, deliveries[$0.delivery].receivedAt) }
            for key in try await insertActions(rows, on: connection) {
                stored[owner[key]!] += 1
            }
            return deliveries.indices.map { index in
                IngestOutcome(
                    newDelivery: receipts[index]!.receipts == 1, storedActions: stored[index],
                    duplicateActions: deliveries[index].actions.count - stored[index])
            }
        }
    }

    /// Inserts actions, each with its delivery's id and its receipt time, in statements of 500; an action whose
    /// key is stored already is skipped. Returns the keys inserted.
    private func insertActions(
        _ rows: [(action: UserAction, deliveryID: Int64, receivedAt: Int64)], on connection: PostgresConnection
    ) async throws -> [String] {
        var inserted: [String] = []
        for chunk in stride(from: 0, to: rows.count, by: 500) {
            var insert = MultiRowInsert(
                prefix: """
                    INSERT INTO user_actions (action_key, delivery_id, action_type, occurred_at, received_at,
                        waba_id, phone_number_id, display_phone_number, click_id, tracking_token,
                        click_component, product_id, raw) VALUES
                    """,
                suffix: "ON CONFLICT (action_key) DO NOTHING RETURNING action_key", columns: 13)
            for (action, deliveryID, receivedAt) in rows[chunk..<min(chunk + 500, rows.count)] {
                insert.append(action.key)
                insert.append(deliveryID)
                insert.append(action.actionType)
                insert.append(action.occurredAt)
                insert.append(receivedAt)
                for text in [
                    action.wabaID, action.phoneNumberID, action.displayPhoneNumber, action.clickID,
                    action.trackingToken, action.clickComponent, action.productID, action.rawJSON,
                ] {
                    insert.append(text)
                }
            }
            inserted += try await insert.returnedText(on: connection, logger: logger)
        }
        return inserted
    }

    /// Inserts a delivery, or counts one more receipt of it; returns its id and receipts.
    private func storeDelivery(_ delivery: WebhookDelivery, on connection: PostgresConnection) async throws
        -> (id: Int64, receipts: Int32)
    {
        let rows = try await connection.query(
            """
            INSERT INTO webhook_deliveries (body_sha256, body, received_at, last_received_at, source)
            VALUES (\(delivery.bodySHA256), \(ByteBuffer(bytes: delivery.body)), \(delivery.receivedAt),
                \(delivery.receivedAt), \(delivery.source.rawValue))
            ON CONFLICT (body_sha256) DO UPDATE
            SET receipts = webhook_deliveries.receipts + 1, last_received_at = excluded.last_received_at
            RETURNING id, receipts
            """, logger: logger)
        for try await row in rows.decode((Int64, Int32).self) {
            return (row.0, row.1)
        }
        throw PostgresStoreError(reason: "storing the delivery returned no row")
    }

    public func recordVisits(_ visits: [Visit]) async throws {
        try await recordVisits(visits.map { (key: nil, visit: $0) })
    }

    /// Each spooled visit carries its key (`identity:row.index`), stored once by the unique constraint on
    /// `visit_key`. (SQLite marks shipped rows instead; here the constraint stays while instances one version
    /// older, which ship with `ON CONFLICT (visit_key)`, may still run beside this one.)
    @discardableResult
    public func recordSpooled(_ batch: VisitSpool.Batch) async throws -> Int {
        try await recordVisits(batch.visits())
    }

    /// Stores visits that carry a key (the spool's id) once each, however often a batch is shipped; returns how
    /// many were new.
    @discardableResult
    public func recordVisits(_ visits: [(key: String?, visit: Visit)]) async throws -> Int {
        guard !visits.isEmpty else { return 0 }
        return try await retryingTransaction { [self] connection in
            var inserted = 0
            for chunk in stride(from: 0, to: visits.count, by: 1000) {
                var insert = MultiRowInsert(
                    prefix: """
                        INSERT INTO visits (visit_key, visited_at, method, path, slug, click_id, click_parameters,
                            click_id_problem, visitor_id, user_agent, referrer, ip, is_bot, bot_reason) VALUES
                        """,
                    suffix: "ON CONFLICT (visit_key) DO NOTHING RETURNING 1", columns: 14)
                for (key, visit) in visits[chunk..<min(chunk + 1000, visits.count)] {
                    insert.append(key)
                    insert.append(visit.visitedAt)
                    insert.append(visit.method)
                    insert.append(visit.path)
                    insert.append(visit.slug)
                    insert.append(visit.clickID)
                    insert.append(ClickParameters.encode(visit.clickParameters))
                    insert.append(visit.clickIDProblem?.rawValue)
                    insert.append(visit.visitorID)
                    insert.append(visit.userAgent)
                    insert.append(visit.referrer)
                    insert.append(visit.ip)
                    insert.append(visit.isBot)
                    insert.append(visit.botReason)
                }
                inserted += try await insert.run(on: connection, logger: logger)
            }
            return inserted
        }
    }

    public func recordConversion(_ conversion: Conversion, receivedAt: Int64, lookback: Int64) async throws
        -> ConversionOutcome
    {
        try await retryingTransaction { [self] connection in
            var clickID = conversion.clickID
            if clickID == nil, let visitorID = conversion.visitorID {
                clickID = try await connection.query(
                    """
                    SELECT click_id FROM visits
                    WHERE visitor_id = \(visitorID) AND click_id IS NOT NULL AND NOT is_bot
                      AND visited_at <= \(conversion.occurredAt) AND visited_at >= \(conversion.occurredAt - lookback)
                    ORDER BY visited_at DESC, id DESC LIMIT 1
                    """, logger: logger
                ).decode(String.self).first { _ in true }
            }
            let inserted = try await connection.query(
                """
                INSERT INTO conversions (event, order_id, click_id, visitor_id, value_micros, currency,
                    occurred_at, received_at, source)
                VALUES (\(conversion.event), \(conversion.orderID), \(clickID), \(conversion.visitorID),
                    \(conversion.valueMicros), \(conversion.currency), \(conversion.occurredAt), \(receivedAt),
                    \(conversion.source.rawValue))
                ON CONFLICT (event, order_id) DO NOTHING
                RETURNING 1
                """, logger: logger
            ).decode(Int32.self).first { _ in true }
            if inserted != nil { return ConversionOutcome(created: true, clickID: clickID) }
            // The row that won is committed (ON CONFLICT waited for it), so this read sees it.
            var stored: String?
            for try await row in try await connection.query(
                "SELECT click_id FROM conversions WHERE event = \(conversion.event) AND order_id = \(conversion.orderID)",
                logger: logger
            ).decode(String?.self) {
                stored = row
            }
            return ConversionOutcome(created: false, clickID: stored)
        }
    }

    // MARK: Import

    /// Copies deliveries from an SQLite database with their receipts and the actions first stored from each, in
    /// one transaction; what is already here is left as it is. Returns how many deliveries and actions were new.
    public func importDeliveries(_ deliveries: [SQLiteExport.Delivery]) async throws -> (deliveries: Int, actions: Int) {
        guard !deliveries.isEmpty else { return (0, 0) }
        return try await retryingTransaction { [self] connection in
            var newDeliveries = 0
            var newActions = 0
            for delivery in deliveries.sorted(by: { $0.bodySHA256 < $1.bodySHA256 }) {
                var stored: (id: Int64, inserted: Bool)?
                let rows = try await connection.query(
                    """
                    INSERT INTO webhook_deliveries (body_sha256, body, received_at, last_received_at, receipts, source)
                    VALUES (\(delivery.bodySHA256), \(ByteBuffer(bytes: delivery.body)), \(delivery.receivedAt),
                        \(delivery.lastReceivedAt), \(Int32(clamping: delivery.receipts)), \(delivery.source))
                    ON CONFLICT (body_sha256) DO UPDATE SET body_sha256 = excluded.body_sha256
                    RETURNING id, (xmax = 0)
                    """, logger: logger)
                for try await (id, inserted) in rows.decode((Int64, Bool).self) {
                    stored = (id, inserted)
                }
                guard let stored else { throw PostgresStoreError(reason: "importing a delivery returned no row") }
                if stored.inserted { newDeliveries += 1 }
                let actions = delivery.actions.sorted { $0.action.key < $1.action.key }
                newActions += try await insertActions(
                    actions.map { ($0.action, stored.id, $0.receivedAt) }, on: connection
                ).count
            }
            return (newDeliveries, newActions)
        }
    }

    /// Copies conversions with their keys; one whose key, or whose (`event`, `order_id`), is here already is
    /// skipped. Returns how many were new.
    public func importConversions(_ conversions: [(key: String, conversion: Conversion, receivedAt: Int64)]) async throws
        -> Int
    {
        guard !conversions.isEmpty else { return 0 }
        return try await retryingTransaction { [self] connection in
            var insert = MultiRowInsert(
                prefix: """
                    INSERT INTO conversions (import_key, event, order_id, click_id, visitor_id, value_micros, currency,
                        occurred_at, received_at, source) VALUES
                    """,
                suffix: "ON CONFLICT DO NOTHING RETURNING 1", columns: 10)
            for (key, conversion, receivedAt) in conversions {
                insert.append(key)
                insert.append(conversion.event)
                insert.append(conversion.orderID)
                insert.append(conversion.clickID)
                insert.append(conversion.visitorID)
                insert.append(conversion.valueMicros)
                insert.append(conversion.currency)
                insert.append(conversion.occurredAt)
                insert.append(receivedAt)
                insert.append(conversion.source.rawValue)
            }
            return try await insert.run(on: connection, logger: logger)
        }
    }

    // MARK: Reports

    public func clickReportPage(_ query: ReportQuery, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    {
        try await clickRows(query, sql: PostgresReportSQL.clicks, after: cursor, limit: limit)
    }

    public func latestClicks(_ query: ReportQuery, limit: Int) async throws -> [ClickReportRow] {
        let start = ReportCursor(clickedAt: Int64.max, id: Int64.max)
        return try await clickRows(query, sql: PostgresReportSQL.latestClicks, after: start, limit: limit).rows
    }

    private func clickRows(_ query: ReportQuery, sql: String, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    {
        try await explained {
            var binds = PostgresBindings()
            binds.append(query.windowMilliseconds)
            binds.append(query.from ?? Int64.min)
            binds.append(query.to ?? Int64.max)
            binds.append(cursor?.clickedAt ?? Int64.min)
            binds.append(cursor?.id ?? Int64.min)
            binds.append(Int64(limit))
            var rows: [ClickReportRow] = []
            var last: ReportCursor?
            let result = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await row in result.decode(
                (Int64, String, Int64, String?, String?, String?, String?, String?, Int64?, String?, Int64, Int64, Bool,
                    String?).self)
            {
                let conversions = ConversionTally(row.13)
                rows.append(
                    ClickReportRow(
                        clickID: row.1, clickedAt: row.2, clickComponent: row.3, productID: row.4, trackingToken: row.5,
                        wabaID: row.6, phoneNumberID: row.7, firstVisitAt: row.8, visits: Int(row.10),
                        botVisits: Int(row.11), landingPageViewed: row.12, conversions: conversions.count,
                        conversionValues: conversions.values, windowMilliseconds: query.windowMilliseconds, slug: row.9))
                last = ReportCursor(clickedAt: row.2, id: row.0)
            }
            return (rows, rows.count == limit ? last : nil)
        }
    }

    public func summaries(_ query: ReportQuery, of templates: [SummaryReport], partMilliseconds: Int64?) async throws
        -> [Int64: [SummaryReport]]
    {
        try await explained {
            var range = PostgresBindings()
            range.append(query.from ?? Int64.min)
            range.append(query.to ?? Int64.max)
            var withWindow = range
            withWindow.append(query.windowMilliseconds)
            var pass = SummaryPass(templates: templates, partMilliseconds: partMilliseconds)
            let clicks = try await client.query(
                PostgresQuery(unsafeSQL: PostgresReportSQL.summaryClicks, binds: withWindow), logger: logger)
            for try await row in clicks.decode((Int64, String?, String?, String?, Int64?, String?, Int64, String?).self) {
                let conversions = ConversionTally(row.7)
                pass.add(
                    SummaryReport.Click(
                        clickedAt: row.0, clickComponent: row.1, productID: row.2, wabaID: row.3, slug: row.5,
                        firstVisitAt: row.4, botVisits: Int(row.6), conversions: conversions.count,
                        conversionValues: conversions.values,
                        status: ClickReportRow.Status(
                            clickedAt: row.0, firstVisitAt: row.4, windowMilliseconds: query.windowMilliseconds)))
            }
            let orphans = try await client.query(
                PostgresQuery(unsafeSQL: PostgresReportSQL.orphanVisits, binds: range), logger: logger)
            for try await (hour, slug, visits) in orphans.decode((Int64, String?, Int64).self) {
                pass.addOrphanVisits(Int(visits), visitedAt: hour * 3_600_000, slug: slug)
            }
            return pass.parts
        }
    }

    // MARK: Retention

    public func purgeBatch(before cutoff: Int64, limit: Int) async throws -> PurgeCounts {
        try await retryingTransaction { [self] connection in
            var counts = PurgeCounts()
            // Each statement takes exactly the parameters it names: the cutoff and batch size, or none.
            func delete(_ sql: String, bounded: Bool = true, type: String? = nil) async throws -> Int {
                var binds = PostgresBindings()
                if bounded {
                    binds.append(cutoff)
                    binds.append(Int64(limit))
                }
                if let type { binds.append(type) }
                var deleted = 0
                for try await _ in try await connection.query(
                    PostgresQuery(unsafeSQL: sql + " RETURNING 1", binds: binds), logger: logger
                ) {
                    deleted += 1
                }
                return deleted
            }
            try await connection.query(PostgresQuery(unsafeSQL: PurgeSQL.createNotedPostgres), logger: logger)
            var binds = PostgresBindings()
            binds.append(cutoff)
            binds.append(Int64(limit))
            try await connection.query(PostgresQuery(unsafeSQL: PurgeSQL.postgres.noteClicks, binds: binds), logger: logger)
            counts.clicks = try await delete(PurgeSQL.postgres.deleteClicks, bounded: false)
            counts.visits = try await delete(PurgeSQL.postgres.deleteJoinedVisits, bounded: false)
            counts.conversions = try await delete(PurgeSQL.postgres.deleteJoinedConversions, bounded: false)
            counts.otherActions = try await delete(PurgeSQL.postgres.deleteJoinedLandingPageViews, bounded: false)
            counts.visits += try await delete(PurgeSQL.postgres.deleteOrphanVisits)
            var types: [String] = []
            for try await type in try await connection.query(
                PostgresQuery(unsafeSQL: PurgeSQL.postgres.otherActionTypes), logger: logger
            ).decode(String.self) {
                types.append(type)
            }
            for type in types {
                counts.otherActions += try await delete(PurgeSQL.postgres.deleteOtherActions, type: type)
            }
            counts.conversions += try await delete(PurgeSQL.postgres.deleteOrphanConversions)
            counts.deliveries = try await delete(PurgeSQL.postgres.deleteDeliveries)
            if counts.total > 0 {
                try await connection.query(PostgresQuery(unsafeSQL: ChangeSQL.notePurge), logger: logger)
            }
            return counts
        }
    }

    public func vacuum() async throws {
        try await explained {
            for table in ["user_actions", "visits", "conversions", "webhook_deliveries"] {
                try await client.query(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) \(table)"), logger: logger)
            }
        }
    }

    // MARK: Reads

    public func checkReachable() async throws {
        try await explained {
            try await client.query("SELECT 1", logger: logger)
        }
    }

    public func changeMarks() async throws -> ChangeMarks {
        try await explained {
            let rows = try await client.query(PostgresQuery(unsafeSQL: ChangeSQL.marks), logger: logger)
            for try await (actions, visits, conversions, purges) in rows.decode((Int64, Int64, Int64, Int64).self) {
                return ChangeMarks(actions: actions, visits: visits, conversions: conversions, purges: purges)
            }
            throw PostgresStoreError(reason: "reading the change marks returned nothing")
        }
    }

    public func changedHours(since marks: ChangeMarks) async throws -> Set<Int64> {
        try await explained {
            var binds = PostgresBindings()
            binds.append(marks.actions)
            binds.append(marks.visits)
            binds.append(marks.conversions)
            var hours: Set<Int64> = []
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: ChangeSQL.postgres.changedHours, binds: binds), logger: logger)
            for try await hour in rows.decode(Int64.self) { hours.insert(hour) }
            return hours
        }
    }

    public func counts() async throws -> StoreCounts {
        try await explained {
            let rows = try await client.query(
                """
                SELECT (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM user_actions),
                       (SELECT count(*) FROM visits), (SELECT count(*) FROM conversions)
                """, logger: logger)
            for try await (deliveries, actions, visits, conversions) in rows.decode((Int64, Int64, Int64, Int64).self) {
                return StoreCounts(
                    deliveries: Int(deliveries), userActions: Int(actions), visits: Int(visits), conversions: Int(conversions))
            }
            throw PostgresStoreError(reason: "counting rows returned nothing")
        }
    }

    public func recentVisits(limit: Int) async throws -> [Visit] {
        try await explained {
            var visits: [Visit] = []
            let rows = try await client.query(
                """
                SELECT visited_at, method, path, slug, click_id, click_parameters, click_id_problem, visitor_id,
                    user_agent, referrer, ip, bot_reason
                FROM visits ORDER BY id DESC LIMIT \(Int64(limit))
                """, logger: logger)
            for try await row in rows.decode(
                (Int64, String, String, String?, String?, String?, String?, String?, String?, String?, String?, String?).self)
            {
                visits.append(
                    Visit(
                        visitedAt: row.0, method: row.1, path: row.2, slug: row.3, clickID: row.4,
                        clickParameters: ClickParameters.decode(row.5),
                        clickIDProblem: row.6.flatMap(ClickID.Problem.init(rawValue:)), visitorID: row.7,
                        userAgent: row.8, referrer: row.9, ip: row.10, botReason: row.11))
            }
            return visits
        }
    }

    public func userActions(clickID: String) async throws -> [UserAction] {
        try await explained {
            var actions: [UserAction] = []
            let rows = try await client.query(
                """
                SELECT action_key, action_type, occurred_at, waba_id, phone_number_id, display_phone_number, click_id,
                    tracking_token, click_component, product_id, raw
                FROM user_actions WHERE click_id = \(clickID) ORDER BY occurred_at, id
                """, logger: logger)
            for try await row in rows.decode(
                (String, String, Int64, String?, String?, String?, String?, String?, String?, String?, String).self)
            {
                actions.append(
                    UserAction(
                        key: row.0, actionType: row.1, occurredAt: row.2, wabaID: row.3, phoneNumberID: row.4,
                        displayPhoneNumber: row.5, clickID: row.6, trackingToken: row.7, clickComponent: row.8,
                        productID: row.9, rawJSON: row.10))
            }
            return actions
        }
    }

    public func deliveryBody(sha256: String) async throws -> [UInt8]? {
        try await explained {
            for try await body in try await client.query(
                "SELECT body FROM webhook_deliveries WHERE body_sha256 = \(sha256)", logger: logger
            ).decode(ByteBuffer.self) {
                return Array(body.readableBytesView)
            }
            return nil
        }
    }

    // MARK: Transactions and errors

    /// Runs `body` in a transaction, again (up to three times) when PostgreSQL chose it as a deadlock's victim or
    /// a serialization failure; every error is explained.
    ///
    /// A write that has not finished within `writeTimeout` fails as unreachable: while the server is away the pool
    /// would hold it until its circuit breaker trips, about a minute, and webhook and conversion callers are
    /// better told to retry (they are idempotent, so a write that did commit late is not stored twice). The caller
    /// is answered at the timeout even when the pool does not give up its wait at once on cancellation (after an
    /// outage it kept the spool's shipper waiting for a minute): the abandoned write is cancelled and left to end.
    private func retryingTransaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await explained {
            let answer = FirstAnswer<Result>()
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    answer.waiting(continuation)
                    let work = Task {
                        var attempt = 0
                        while true {
                            attempt += 1
                            do {
                                let result = try await self.client.withTransaction(logger: self.logger) { connection in
                                    try await body(connection)
                                }
                                return answer.give(.success(result))
                            } catch let error as PostgresTransactionError where attempt < 3 && Self.isRetryable(error) {
                                self.logger.debug("transaction retried after \(error)")
                            } catch {
                                return answer.give(.failure(error))
                            }
                        }
                    }
                    let timer = Task {
                        guard (try? await Task.sleep(for: self.writeTimeout)) != nil else { return }
                        answer.give(.failure(PostgresStoreError(unreachable: "PostgreSQL did not answer within \(self.writeTimeout)")))
                    }
                    // Whichever answers first, the other is cancelled: a late write, or a timer still asleep.
                    answer.cancelOnAnswer { work.cancel() }
                    answer.cancelOnAnswer { timer.cancel() }
                }
            } onCancel: {
                answer.give(.failure(CancellationError()))
            }
        }
    }

    private static func isRetryable(_ error: PostgresTransactionError) -> Bool {
        guard let closure = error.closureError as? PSQLError, let state = closure.serverInfo?[.sqlState] else {
            return false
        }
        return state == "40P01" || state == "40001"
    }

    /// Runs `body`; a PostgreSQL error comes out as `PostgresStoreError`, whose description is one sentence.
    @discardableResult
    private func explained<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError(error)
        }
    }
}

/// A failed PostgreSQL operation, said in one sentence.
public struct PostgresStoreError: Error, CustomStringConvertible {
    public let description: String

    init(unreachable reason: String) {
        description = reason
    }

    init(reason: String) {
        description = "PostgreSQL: \(reason)"
    }

    init(_ error: any Error) {
        var underlying: any Error = error
        if let transaction = error as? PostgresTransactionError {
            underlying = transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error
        }
        guard let psql = underlying as? PSQLError else {
            description = "PostgreSQL: \(underlying)"
            return
        }
        if let message = psql.serverInfo?[.message] {
            description = "PostgreSQL refused: \(message) (SQLSTATE \(psql.serverInfo?[.sqlState] ?? ""))"
            return
        }
        switch psql.code {
        case .sslUnsupported:
            description = "the PostgreSQL server does not offer TLS, which the URL's sslmode requires"
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
            .failedToAddSSLHandler:
            description = "PostgreSQL is unreachable: \(psql.underlying.map { "\($0)" } ?? "\(psql.code)")"
        default:
            description = "PostgreSQL: \(psql.code)"
        }
    }
}

/// A multi-row `INSERT ... VALUES (...), (...)` with numbered parameters, run as one statement.
struct MultiRowInsert {
    private let prefix: String
    private let suffix: String
    private let columns: Int
    private var binds = PostgresBindings()

    init(prefix: String, suffix: String, columns: Int) {
        self.prefix = prefix
        self.suffix = suffix
        self.columns = columns
    }

    mutating func append(_ value: String?) {
        binds.append(value)
    }

    mutating func append(_ value: Int64?) {
        binds.append(value)
    }

    mutating func append(_ value: Bool) {
        binds.append(value)
    }

    /// Runs the statement; returns how many rows it returned (one per inserted row with `RETURNING 1`).
    @discardableResult
    func run(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        guard let query else { return 0 }
        var returned = 0
        for try await _ in try await connection.query(query, logger: logger) {
            returned += 1
        }
        return returned
    }

    /// Runs the statement, whose `RETURNING` names one text column; returns the values it returned.
    func returnedText(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        guard let query else { return [] }
        var values: [String] = []
        for try await value in try await connection.query(query, logger: logger).decode(String.self) {
            values.append(value)
        }
        return values
    }

    /// `prefix ($1, $2), ($3, $4) suffix` for the rows appended; nil when there are none.
    private var query: PostgresQuery? {
        let rows = binds.count / columns
        guard rows > 0 else { return nil }
        var sql = prefix
        var parameter = 0
        for row in 0..<rows {
            sql += row == 0 ? "\n(" : ",\n("
            for column in 0..<columns {
                parameter += 1
                sql += column == 0 ? "$\(parameter)" : ", $\(parameter)"
            }
            sql += ")"
        }
        return PostgresQuery(unsafeSQL: sql + "\n" + suffix, binds: binds)
    }
}

/// The first of several racing outcomes, handed to one waiting continuation; later ones are dropped, and the
/// racers registered with `cancelOnAnswer` are cancelled once there is an answer.
private final class FirstAnswer<Value: Sendable>: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<Value, any Error>?
        var early: Result<Value, any Error>?
        var given = false
        var cancels: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    func cancelOnAnswer(_ cancel: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if !state.given { state.cancels.append(cancel) }
            return state.given
        }
        if now { cancel() }
    }

    func waiting(_ continuation: UnsafeContinuation<Value, any Error>) {
        let early: Result<Value, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func give(_ result: Result<Value, any Error>) {
        let (continuation, cancels) = state.withLock { state -> (UnsafeContinuation<Value, any Error>?, [@Sendable () -> Void]) in
            guard !state.given else { return (nil, []) }
            state.given = true
            defer { state.cancels = [] }
            guard let continuation = state.continuation else {
                state.early = result
                return (nil, state.cancels)
            }
            state.continuation = nil
            return (continuation, state.cancels)
        }
        continuation?.resume(with: result)
        for cancel in cancels { cancel() }
    }
}
