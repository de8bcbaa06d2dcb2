/// Retention's deletions as PostgreSQL runs them: `SQLitePurgeSQL`'s rules, with a temporary table that empties
/// itself at commit. $1 is the cutoff and $2 the batch size wherever they appear; $3 an action type.
enum PostgresPurgeSQL {
    static let linkClick = SQLitePurgeSQL.linkClick

    static let createNoted = """
        CREATE TEMP TABLE IF NOT EXISTS purged_clicks (id bigint PRIMARY KEY, click_id text COLLATE "C",
            tracking_token text COLLATE "C") ON COMMIT DELETE ROWS
        """

    /// $1 $2.
    static let noteClicks = """
        INSERT INTO purged_clicks (id, click_id, tracking_token)
        SELECT id, click_id, tracking_token FROM user_actions
        WHERE action_type = \(linkClick) AND occurred_at < $1
        ORDER BY occurred_at LIMIT $2
        """

    static let deleteClicks = "DELETE FROM user_actions WHERE id IN (SELECT id FROM purged_clicks)"

    private static let goneClickIDs = """
        SELECT p.click_id FROM purged_clicks p WHERE p.click_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = p.click_id AND c.action_type = \(linkClick))
        """

    static let deleteJoinedVisits = "DELETE FROM visits WHERE click_id IN (\(goneClickIDs))"
    static let deleteJoinedConversions = "DELETE FROM conversions WHERE click_id IN (\(goneClickIDs))"

    static let deleteJoinedLandingPageViews = """
        DELETE FROM user_actions WHERE id IN (
            SELECT l.id FROM user_actions l
            WHERE l.action_type = 'landing_page_view'
              AND (l.click_id IN (SELECT click_id FROM purged_clicks)
                   OR l.tracking_token IN (SELECT tracking_token FROM purged_clicks))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE c.click_id = l.click_id AND c.action_type = \(linkClick))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE l.tracking_token IS NOT NULL AND c.tracking_token = l.tracking_token
                                AND c.action_type = \(linkClick)))
        """

    /// $1 $2.
    static let deleteOrphanVisits = """
        DELETE FROM visits WHERE id IN (
            SELECT v.id FROM visits v
            WHERE v.visited_at < $1
              AND (v.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                     WHERE c.click_id = v.click_id AND c.action_type = \(linkClick)))
            LIMIT $2)
        """

    /// $1 $2 $3.
    static let deleteOtherActions = """
        DELETE FROM user_actions WHERE id IN (
            SELECT a.id FROM user_actions a
            WHERE a.action_type = $3 AND a.occurred_at < $1
              AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = a.click_id AND c.action_type = \(linkClick))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE a.tracking_token IS NOT NULL AND c.tracking_token = a.tracking_token
                                AND c.action_type = \(linkClick))
            LIMIT $2)
        """

    static let otherActionTypes = SQLitePurgeSQL.otherActionTypes

    /// $1 $2.
    static let deleteOrphanConversions = """
        DELETE FROM conversions WHERE id IN (
            SELECT x.id FROM conversions x
            WHERE x.occurred_at < $1
              AND (x.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                     WHERE c.click_id = x.click_id AND c.action_type = \(linkClick)))
            LIMIT $2)
        """

    /// $1 $2.
    static let deleteDeliveries = """
        DELETE FROM webhook_deliveries WHERE id IN (
            SELECT d.id FROM webhook_deliveries d
            WHERE d.last_received_at < $1 AND NOT EXISTS (SELECT 1 FROM user_actions a WHERE a.delivery_id = d.id)
            LIMIT $2)
        """
}
