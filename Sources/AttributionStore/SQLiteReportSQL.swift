/// The report joins, as SQLite runs them: correlated lookups on indexed click ids, one click at a time.
enum SQLiteReportSQL {
    /// A click's conversions, each as `CUR micros` (either part may be empty), `;`-separated: one index lookup,
    /// counted and summed by `ConversionTally`. Conversions count when they happen from 1 s before the click
    /// (the webhook's resolution) to the window's end.
    private static let conversionsInWindow = """
        (SELECT group_concat(ifnull(x.currency, '') || ' ' || ifnull(x.value_micros, ''), ';') FROM conversions x
            WHERE x.click_id = c.click_id AND x.occurred_at BETWEEN c.occurred_at - 1000 AND c.occurred_at + :window)
        """

    /// The id of a click's first human visit, found in the covering index `visits_click_bot_time`.
    private static let firstHumanVisitID = """
        (SELECT v.id FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 0 ORDER BY v.visited_at, v.id LIMIT 1)
        """

    /// One page of `report clicks`: the clicks of the range after the cursor, each with its visits, landing page
    /// view and conversions.
    static let clicks = clicks(newestFirst: false)
    /// The same rows, newest first, for the dashboard's latest clicks; the cursor then counts down.
    static let latestClicks = clicks(newestFirst: true)

    private static func clicks(newestFirst: Bool) -> String {
        let (after, order) = newestFirst ? ("<", "DESC") : (">", "ASC")
        return """
        SELECT c.id, c.click_id, c.occurred_at AS clicked_at, c.click_component, c.product_id, c.tracking_token,
            c.waba_id, c.phone_number_id, first.visited_at AS first_visit_at, first.slug,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 0) AS visits,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 1) AS bot_visits,
            (EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND c.tracking_token IS NOT NULL AND l.tracking_token = c.tracking_token)
             OR EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND l.click_id = c.click_id)) AS landing_page_viewed,
            \(conversionsInWindow) AS conversions
        FROM user_actions c
        LEFT JOIN visits first ON first.id = \(firstHumanVisitID)
        WHERE c.action_type = 'marketing_messages_link_click' AND c.click_id IS NOT NULL
          AND c.occurred_at >= :from AND c.occurred_at < :to
          AND (c.occurred_at \(after) :afterTime OR (c.occurred_at = :afterTime AND c.id \(after) :afterID))
        ORDER BY c.occurred_at \(order), c.id \(order)
        LIMIT :limit
        """
    }

    /// The one pass of `report summary` and the dashboard: each click of the range with every visit carrying its id
    /// (a row a visit, or one row with empty visit columns), the visits read from the covering index
    /// `visits_click_bot_time_slug`; the rows of a click come together. Columns in order: id, click_id, clicked_at,
    /// click_component, product_id, waba_id, visit id, is_bot, visited_at, slug.
    static let summaryClicks = """
        SELECT c.id, c.click_id, c.occurred_at, c.click_component, c.product_id, c.waba_id,
            v.id, v.is_bot, v.visited_at, v.slug
        FROM user_actions c
        LEFT JOIN visits v ON v.click_id = c.click_id
        WHERE c.action_type = 'marketing_messages_link_click' AND c.click_id IS NOT NULL
          AND c.occurred_at >= :from AND c.occurred_at < :to
        ORDER BY c.occurred_at, c.id
        """

    /// The conversions that may count for a range's clicks (`ConversionsByClick.times`), read by time.
    static let conversionsOfRange = """
        SELECT click_id, occurred_at, currency, value_micros FROM conversions
        WHERE click_id IS NOT NULL AND occurred_at BETWEEN :from AND :to
        """

    /// The first and last click time of the range, from the index, to cut it into slices.
    static let clickTimeBounds = """
        SELECT min(occurred_at), max(occurred_at) FROM user_actions
        WHERE action_type = 'marketing_messages_link_click' AND occurred_at >= :from AND occurred_at < :to
        """

    /// Non-bot visits whose click id matches no click event, counted by hour and route.
    static let orphanVisits = """
        SELECT v.visited_at / 3600000 AS hour, v.slug, count(*) AS visits
        FROM visits v
        WHERE v.is_bot = 0 AND v.click_id IS NOT NULL AND v.visited_at >= :from AND v.visited_at < :to
          AND NOT EXISTS (SELECT 1 FROM user_actions c
                          WHERE c.click_id = v.click_id AND c.action_type = 'marketing_messages_link_click')
        GROUP BY hour, v.slug
        """
}
