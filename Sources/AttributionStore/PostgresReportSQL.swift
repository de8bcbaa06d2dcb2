/// The report joins as PostgreSQL runs them: the same correlated lookups as `SQLiteReportSQL`, with PostgreSQL's
/// spelling (`string_agg`, `coalesce`, booleans) and numbered parameters. Rows come out byte-identical to
/// SQLite's: the same order (click time, then id), the same folding in Swift (`ConversionTally`, `SummaryReport`).
enum PostgresReportSQL {
    /// A click's conversions as `CUR micros;CUR micros`, as in SQLite. `$window` is the window in milliseconds.
    private static func conversionsInWindow(_ window: String) -> String {
        """
        (SELECT string_agg(coalesce(x.currency, '') || ' ' || coalesce(x.value_micros::text, ''), ';') FROM conversions x
            WHERE x.click_id = c.click_id AND x.occurred_at BETWEEN c.occurred_at - 1000 AND c.occurred_at + \(window))
        """
    }

    private static let firstHumanVisitID = """
        (SELECT v.id FROM visits v WHERE v.click_id = c.click_id AND NOT v.is_bot ORDER BY v.visited_at, v.id LIMIT 1)
        """

    /// One page of `report clicks`. $1 window, $2 from, $3 to, $4 and $5 the cursor (time, id), $6 the page size.
    static let clicks = clicks(newestFirst: false)
    /// The same rows, newest first, for the dashboard's latest clicks; the cursor then counts down.
    static let latestClicks = clicks(newestFirst: true)

    private static func clicks(newestFirst: Bool) -> String {
        let (after, order) = newestFirst ? ("<", "DESC") : (">", "ASC")
        return """
        SELECT c.id, c.click_id, c.occurred_at, c.click_component, c.product_id, c.tracking_token,
            c.waba_id, c.phone_number_id, fv.visited_at, fv.slug,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND NOT v.is_bot),
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot),
            (EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND c.tracking_token IS NOT NULL AND l.tracking_token = c.tracking_token)
             OR EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND l.click_id = c.click_id)),
            \(conversionsInWindow("$1"))
        FROM user_actions c
        LEFT JOIN visits fv ON fv.id = \(firstHumanVisitID)
        WHERE c.action_type = 'marketing_messages_link_click' AND c.click_id IS NOT NULL
          AND c.occurred_at >= $2 AND c.occurred_at < $3
          AND (c.occurred_at \(after) $4 OR (c.occurred_at = $4 AND c.id \(after) $5))
        ORDER BY c.occurred_at \(order), c.id \(order)
        LIMIT $6
        """
    }

    /// What `report summary` needs of each click. $1 from, $2 to, $3 window.
    /// Columns: clicked_at, click_component, product_id, waba_id, first_visit_at, slug, bot_visits, conversions.
    static let summaryClicks = """
        SELECT c.occurred_at, c.click_component, c.product_id, c.waba_id, fv.visited_at, fv.slug,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot),
            \(conversionsInWindow("$3"))
        FROM user_actions c
        LEFT JOIN visits fv ON fv.id = \(firstHumanVisitID)
        WHERE c.action_type = 'marketing_messages_link_click' AND c.click_id IS NOT NULL
          AND c.occurred_at >= $1 AND c.occurred_at < $2
        """

    /// Non-bot visits whose click id matches no click event, by hour and route. $1 from, $2 to.
    static let orphanVisits = """
        SELECT v.visited_at / 3600000 AS hour, v.slug, count(*)
        FROM visits v
        WHERE NOT v.is_bot AND v.click_id IS NOT NULL AND v.visited_at >= $1 AND v.visited_at < $2
          AND NOT EXISTS (SELECT 1 FROM user_actions c
                          WHERE c.click_id = v.click_id AND c.action_type = 'marketing_messages_link_click')
        GROUP BY hour, v.slug
        """
}
