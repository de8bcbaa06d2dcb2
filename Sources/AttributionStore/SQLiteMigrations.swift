import GRDB

/// The SQLite schema's history. Shipped migrations are never edited: add a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: deliveries, user actions, visits") { db in
            // Times are integer milliseconds since the Unix epoch, UTC.
            try db.execute(
                sql: """
                    CREATE TABLE webhook_deliveries (
                        id INTEGER PRIMARY KEY,
                        body_sha256 TEXT NOT NULL UNIQUE,
                        body BLOB NOT NULL,
                        received_at INTEGER NOT NULL,
                        last_received_at INTEGER NOT NULL,
                        receipts INTEGER NOT NULL DEFAULT 1,
                        source TEXT NOT NULL
                    );
                    CREATE TABLE user_actions (
                        id INTEGER PRIMARY KEY,
                        action_key TEXT NOT NULL UNIQUE,
                        delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
                        action_type TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        waba_id TEXT,
                        phone_number_id TEXT,
                        display_phone_number TEXT,
                        click_id TEXT,
                        tracking_token TEXT,
                        click_component TEXT,
                        product_id TEXT,
                        raw TEXT NOT NULL
                    );
                    CREATE INDEX user_actions_click_id ON user_actions(click_id);
                    CREATE INDEX user_actions_tracking_token ON user_actions(tracking_token);
                    CREATE INDEX user_actions_type_time ON user_actions(action_type, occurred_at);
                    CREATE TABLE visits (
                        id INTEGER PRIMARY KEY,
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
                        is_bot INTEGER NOT NULL,
                        bot_reason TEXT
                    );
                    CREATE INDEX visits_click_id ON visits(click_id);
                    CREATE INDEX visits_visited_at ON visits(visited_at);
                    CREATE INDEX visits_visitor_id ON visits(visitor_id);
                    """)
        }
        migrator.registerMigration("v2: conversions, report indexes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE conversions (
                        id INTEGER PRIMARY KEY,
                        event TEXT NOT NULL,
                        order_id TEXT,
                        click_id TEXT,
                        visitor_id TEXT,
                        value_micros INTEGER,
                        currency TEXT,
                        occurred_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        source TEXT NOT NULL
                    );
                    CREATE UNIQUE INDEX conversions_event_order ON conversions(event, order_id);
                    CREATE INDEX conversions_click_id ON conversions(click_id, occurred_at);
                    CREATE INDEX visits_click_bot_time ON visits(click_id, is_bot, visited_at);
                    """)
        }
        // visits_click_bot_time starts with click_id and serves every lookup visits_click_id did; each index is
        // pages written on every group commit of visits.
        migrator.registerMigration("v3: one click id index on visits") { db in
            try db.execute(sql: "DROP INDEX visits_click_id")
        }
        // Retention deletes by time and by delivery: without these, each batch would scan a whole table (and
        // SQLite's foreign key check scans user_actions for every delivery deleted).
        migrator.registerMigration("v4: retention indexes") { db in
            try db.execute(
                sql: """
                    CREATE INDEX user_actions_delivery ON user_actions(delivery_id);
                    CREATE INDEX conversions_occurred_at ON conversions(occurred_at);
                    CREATE INDEX webhook_deliveries_last_received ON webhook_deliveries(last_received_at);
                    """)
        }
        // The one pass of the summary and the dashboard reads a click's visits, and the orphan count a visit's
        // click, from these indexes alone: the same index entries as before, a few bytes wider.
        migrator.registerMigration("v5: covering indexes for the summary pass") { db in
            try db.execute(
                sql: """
                    DROP INDEX visits_click_bot_time;
                    CREATE INDEX visits_click_bot_time_slug ON visits(click_id, is_bot, visited_at, slug);
                    DROP INDEX user_actions_click_id;
                    CREATE INDEX user_actions_click_type ON user_actions(click_id, action_type);
                    """)
        }
        migrator.registerMigration("v6: data generations") { db in
            try db.execute(sql: "CREATE TABLE data_generations (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        }
        // Visits now reach the database from the instance's spool, in batches that may be shipped twice after a
        // crash: each carries the spool's key, stored once. Visits stored before have none (NULLs are distinct).
        migrator.registerMigration("v7: visit keys") { db in
            try db.execute(
                sql: """
                    ALTER TABLE visits ADD COLUMN visit_key TEXT;
                    CREATE UNIQUE INDEX visits_visit_key ON visits(visit_key);
                    """)
        }
        // A spooled batch is whole spool rows, shipped oldest first: the store records, in the batch's own
        // transaction, the last row it has shipped from each spool, and skips the rows at or below it when a
        // batch comes again. That replaces a unique key per visit, whose index cost the shipper about a sixth of
        // its time. The marks start from the keys stored so far (`identity:row.index`, or an older spool's
        // `identity:row`), so a batch committed but not forgotten before this upgrade is still recognised.
        migrator.registerMigration("v8: spool marks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE spool_marks (spool TEXT PRIMARY KEY NOT NULL, shipped_through INTEGER NOT NULL)
                        WITHOUT ROWID;
                    INSERT INTO spool_marks (spool, shipped_through)
                        SELECT substr(visit_key, 1, instr(visit_key, ':') - 1)
                                || CASE WHEN instr(visit_key, '.') > 0 THEN '' ELSE '/legacy' END,
                            max(CAST(substr(visit_key, instr(visit_key, ':') + 1) AS INTEGER))
                        FROM visits WHERE instr(visit_key, ':') > 1
                        GROUP BY 1;
                    DROP INDEX visits_visit_key;
                    """)
        }
        return migrator
    }
}
