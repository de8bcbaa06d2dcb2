/// Retention's deletions, each bounded by the batch size and driven by an index: one set of rules, spelled
/// for each database's placeholders (`:cutoff` and friends in SQLite, `$1`, `$2`, `$3` in PostgreSQL) and its
/// table of the batch's noted clicks.
struct PurgeSQL {
    static let linkClick = "'marketing_messages_link_click'"
    static let sqlite = PurgeSQL(cutoff: ":cutoff", limit: ":limit", type: ":type", noted: "temp.purged_clicks")
    static let postgres = PurgeSQL(cutoff: "$1", limit: "$2", type: "$3", noted: "purged_clicks")

    /// SQLite's table of noted clicks; PostgreSQL's empties itself at commit.
    static let createNotedSQLite =
        "CREATE TEMP TABLE IF NOT EXISTS purged_clicks (id INTEGER PRIMARY KEY, click_id TEXT, tracking_token TEXT)"
    static let createNotedPostgres = """
        CREATE TEMP TABLE IF NOT EXISTS purged_clicks (id bigint PRIMARY KEY, click_id text COLLATE "C",
            tracking_token text COLLATE "C") ON COMMIT DELETE ROWS
        """

    let noteClicks: String
    let deleteClicks: String
    let deleteJoinedVisits: String
    let deleteJoinedConversions: String
    let deleteJoinedLandingPageViews: String
    let deleteOrphanVisits: String
    let deleteOtherActions: String
    let otherActionTypes: String
    let deleteOrphanConversions: String
    let deleteDeliveries: String

    private init(cutoff: String, limit: String, type: String, noted: String) {
        let linkClick = Self.linkClick
        // The oldest link clicks past the cutoff, noted before they go.
        noteClicks = """
            INSERT INTO \(noted) (id, click_id, tracking_token)
            SELECT id, click_id, tracking_token FROM user_actions
            WHERE action_type = \(linkClick) AND occurred_at < \(cutoff)
            ORDER BY occurred_at LIMIT \(limit)
            """

        deleteClicks = "DELETE FROM user_actions WHERE id IN (SELECT id FROM \(noted))"

        // Click ids of the batch that no kept click carries any more.
        let goneClickIDs = """
            SELECT p.click_id FROM \(noted) p WHERE p.click_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = p.click_id AND c.action_type = \(linkClick))
            """

        deleteJoinedVisits = "DELETE FROM visits WHERE click_id IN (\(goneClickIDs))"
        deleteJoinedConversions = "DELETE FROM conversions WHERE click_id IN (\(goneClickIDs))"

        // Landing page views that matched a click of the batch and match no kept click, by token or by id.
        deleteJoinedLandingPageViews = """
            DELETE FROM user_actions WHERE id IN (
                SELECT l.id FROM user_actions l
                WHERE l.action_type = 'landing_page_view'
                  AND (l.click_id IN (SELECT click_id FROM \(noted))
                       OR l.tracking_token IN (SELECT tracking_token FROM \(noted)))
                  AND NOT EXISTS (SELECT 1 FROM user_actions c
                                  WHERE c.click_id = l.click_id AND c.action_type = \(linkClick))
                  AND NOT EXISTS (SELECT 1 FROM user_actions c
                                  WHERE l.tracking_token IS NOT NULL AND c.tracking_token = l.tracking_token
                                    AND c.action_type = \(linkClick)))
            """

        // Visits past the cutoff that carry no click id, or one no click event has.
        deleteOrphanVisits = """
            DELETE FROM visits WHERE id IN (
                SELECT v.id FROM visits v
                WHERE v.visited_at < \(cutoff)
                  AND (v.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                         WHERE c.click_id = v.click_id AND c.action_type = \(linkClick)))
                LIMIT \(limit))
            """

        // Actions of one other type (the type placeholder) past the cutoff that match no kept click.
        deleteOtherActions = """
            DELETE FROM user_actions WHERE id IN (
                SELECT a.id FROM user_actions a
                WHERE a.action_type = \(type) AND a.occurred_at < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = a.click_id AND c.action_type = \(linkClick))
                  AND NOT EXISTS (SELECT 1 FROM user_actions c
                                  WHERE a.tracking_token IS NOT NULL AND c.tracking_token = a.tracking_token
                                    AND c.action_type = \(linkClick))
                LIMIT \(limit))
            """

        otherActionTypes = "SELECT DISTINCT action_type FROM user_actions WHERE action_type <> \(linkClick)"

        deleteOrphanConversions = """
            DELETE FROM conversions WHERE id IN (
                SELECT x.id FROM conversions x
                WHERE x.occurred_at < \(cutoff)
                  AND (x.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                         WHERE c.click_id = x.click_id AND c.action_type = \(linkClick)))
                LIMIT \(limit))
            """

        // Raw deliveries last received before the cutoff that no kept action comes from.
        deleteDeliveries = """
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT d.id FROM webhook_deliveries d
                WHERE d.last_received_at < \(cutoff) AND NOT EXISTS (SELECT 1 FROM user_actions a WHERE a.delivery_id = d.id)
                LIMIT \(limit))
            """
    }
}
