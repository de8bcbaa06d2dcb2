/// The PostgreSQL schema's history, one statement per entry (the extended protocol runs one at a time).
/// Shipped migrations are never edited and only ever add: an instance one version older keeps working while a
/// rolling upgrade passes. Text that reports compare or join on is `COLLATE "C"`: bytes, as in SQLite.
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let description: String
        let statements: [String]
    }

    /// Any 64-bit number unlikely to be another application's: the advisory lock that serialises migrations.
    static let lockKey: Int64 = 0x636C_6963_6B61_7474  // "clickatt"

    static let table = """
        CREATE TABLE IF NOT EXISTS clickattr_schema (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    private static let text = #"text COLLATE "C""#

    static let all: [Migration] = [
        Migration(
            version: 1, description: "deliveries, user actions, visits, conversions",
            statements: [
                // Times are bigint milliseconds since the Unix epoch, UTC, as in SQLite.
                """
                CREATE TABLE webhook_deliveries (
                    id bigserial PRIMARY KEY,
                    body_sha256 \(text) NOT NULL UNIQUE,
                    body bytea NOT NULL,
                    received_at bigint NOT NULL,
                    last_received_at bigint NOT NULL,
                    receipts integer NOT NULL DEFAULT 1,
                    source \(text) NOT NULL
                )
                """,
                "CREATE INDEX webhook_deliveries_last_received ON webhook_deliveries(last_received_at)",
                """
                CREATE TABLE user_actions (
                    id bigserial PRIMARY KEY,
                    action_key \(text) NOT NULL UNIQUE,
                    delivery_id bigint NOT NULL REFERENCES webhook_deliveries(id),
                    action_type \(text) NOT NULL,
                    occurred_at bigint NOT NULL,
                    received_at bigint NOT NULL,
                    waba_id \(text),
                    phone_number_id \(text),
                    display_phone_number \(text),
                    click_id \(text),
                    tracking_token \(text),
                    click_component \(text),
                    product_id \(text),
                    raw text NOT NULL
                )
                """,
                "CREATE INDEX user_actions_click_id ON user_actions(click_id)",
                "CREATE INDEX user_actions_tracking_token ON user_actions(tracking_token)",
                "CREATE INDEX user_actions_type_time ON user_actions(action_type, occurred_at)",
                "CREATE INDEX user_actions_delivery ON user_actions(delivery_id)",
                // visit_key is the spool's id for a visit: shipping a batch twice stores it once.
                """
                CREATE TABLE visits (
                    id bigserial PRIMARY KEY,
                    visit_key \(text) UNIQUE,
                    visited_at bigint NOT NULL,
                    method \(text) NOT NULL,
                    path \(text) NOT NULL,
                    slug \(text),
                    click_id \(text),
                    click_parameters text,
                    click_id_problem \(text),
                    visitor_id \(text),
                    user_agent \(text),
                    referrer \(text),
                    ip \(text),
                    is_bot boolean NOT NULL,
                    bot_reason \(text)
                )
                """,
                "CREATE INDEX visits_click_bot_time ON visits(click_id, is_bot, visited_at)",
                "CREATE INDEX visits_visited_at ON visits(visited_at)",
                "CREATE INDEX visits_visitor_id ON visits(visitor_id)",
                """
                CREATE TABLE conversions (
                    id bigserial PRIMARY KEY,
                    event \(text) NOT NULL,
                    order_id \(text),
                    click_id \(text),
                    visitor_id \(text),
                    value_micros bigint,
                    currency \(text),
                    occurred_at bigint NOT NULL,
                    received_at bigint NOT NULL,
                    source \(text) NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX conversions_event_order ON conversions(event, order_id)",
                "CREATE INDEX conversions_click_id ON conversions(click_id, occurred_at)",
                "CREATE INDEX conversions_occurred_at ON conversions(occurred_at)",
            ]),
        // `clickattr import sqlite` keys the conversions it copies: one without an order id has no other key.
        Migration(
            version: 2, description: "import keys for conversions",
            statements: [
                "ALTER TABLE conversions ADD COLUMN import_key \(text)",
                "CREATE UNIQUE INDEX conversions_import_key ON conversions(import_key)",
            ]),
        // How many purges have deleted rows: the dashboard's daily rollups count every day again after one.
        Migration(
            version: 3, description: "data generations",
            statements: ["CREATE TABLE data_generations (name \(text) PRIMARY KEY, value bigint NOT NULL)"]),
    ]
}
