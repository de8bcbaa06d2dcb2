/// Retention's deletions as SQLite runs them, each bounded by `:limit` and driven by an index.
enum SQLitePurgeSQL {
    static let linkClick = "'marketing_messages_link_click'"

    /// The oldest link clicks past the cutoff, noted before they go.
    static let noteClicks = """
        INSERT INTO temp.purged_clicks (id, click_id, tracking_token)
        SELECT id, click_id, tracking_token FROM user_actions
        WHERE action_type = \(linkClick) AND occurred_at < :cutoff
        ORDER BY occurred_at LIMIT :limit
        """

    static let deleteClicks = "DELETE FROM user_actions WHERE id IN (SELECT id FROM temp.purged_clicks)"

    /// Click ids of the batch that no kept click carries any more.
    private static let goneClickIDs = """
        SELECT p.click_id FROM temp.purged_clicks p WHERE p.click_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = p.click_id AND c.action_type = \(linkClick))
        """

    static let deleteJoinedVisits = "DELETE FROM visits WHERE click_id IN (\(goneClickIDs))"
    static let deleteJoinedConversions = "DELETE FROM conversions WHERE click_id IN (\(goneClickIDs))"

    /// Landing page views that matched a click of the batch and match no kept click, by token or by id.
    static let deleteJoinedLandingPageViews = """
        DELETE FROM user_actions WHERE id IN (
            SELECT l.id FROM user_actions l
            WHERE l.action_type = 'landing_page_view'
              AND (l.click_id IN (SELECT click_id FROM temp.purged_clicks)
                   OR l.tracking_token IN (SELECT tracking_token FROM temp.purged_clicks))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE c.click_id = l.click_id AND c.action_type = \(linkClick))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE l.tracking_token IS NOT NULL AND c.tracking_token = l.tracking_token
                                AND c.action_type = \(linkClick)))
        """

    /// Visits past the cutoff that carry no click id, or one no click event has.
    static let deleteOrphanVisits = """
        DELETE FROM visits WHERE id IN (
            SELECT v.id FROM visits v
            WHERE v.visited_at < :cutoff
              AND (v.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                     WHERE c.click_id = v.click_id AND c.action_type = \(linkClick)))
            LIMIT :limit)
        """

    /// Actions of one other type (`:type`) past the cutoff that match no kept click.
    static let deleteOtherActions = """
        DELETE FROM user_actions WHERE id IN (
            SELECT a.id FROM user_actions a
            WHERE a.action_type = :type AND a.occurred_at < :cutoff
              AND NOT EXISTS (SELECT 1 FROM user_actions c WHERE c.click_id = a.click_id AND c.action_type = \(linkClick))
              AND NOT EXISTS (SELECT 1 FROM user_actions c
                              WHERE a.tracking_token IS NOT NULL AND c.tracking_token = a.tracking_token
                                AND c.action_type = \(linkClick))
            LIMIT :limit)
        """

    static let otherActionTypes = "SELECT DISTINCT action_type FROM user_actions WHERE action_type <> \(linkClick)"

    static let deleteOrphanConversions = """
        DELETE FROM conversions WHERE id IN (
            SELECT x.id FROM conversions x
            WHERE x.occurred_at < :cutoff
              AND (x.click_id IS NULL OR NOT EXISTS (SELECT 1 FROM user_actions c
                                                     WHERE c.click_id = x.click_id AND c.action_type = \(linkClick)))
            LIMIT :limit)
        """

    /// Raw deliveries last received before the cutoff that no kept action comes from.
    static let deleteDeliveries = """
        DELETE FROM webhook_deliveries WHERE id IN (
            SELECT d.id FROM webhook_deliveries d
            WHERE d.last_received_at < :cutoff AND NOT EXISTS (SELECT 1 FROM user_actions a WHERE a.delivery_id = d.id)
            LIMIT :limit)
        """
}
