/// The report joins, as SQLite runs them: correlated lookups on indexed click ids, one click at a time.
enum SQLiteReportSQL {
    /// Conversions count when they happen from 1 s before the click (the webhook's resolution) to the window's end.
    static let clicks = """
        SELECT c.id, c.click_id, c.occurred_at AS clicked_at, c.click_component, c.product_id, c.tracking_token,
            c.waba_id, c.phone_number_id,
            (SELECT min(v.visited_at) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 0) AS first_visit_at,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 0) AS visits,
            (SELECT v.slug FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 0
                ORDER BY v.visited_at, v.id LIMIT 1) AS slug,
            (SELECT count(*) FROM visits v WHERE v.click_id = c.click_id AND v.is_bot = 1) AS bot_visits,
            (EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND c.tracking_token IS NOT NULL AND l.tracking_token = c.tracking_token)
             OR EXISTS (SELECT 1 FROM user_actions l WHERE l.action_type = 'landing_page_view'
                        AND l.click_id = c.click_id)) AS landing_page_viewed,
            (SELECT count(*) FROM conversions x WHERE x.click_id = c.click_id
                AND x.occurred_at BETWEEN c.occurred_at - 1000 AND c.occurred_at + :window) AS conversions,
            (SELECT group_concat(ifnull(currency, '') || ' ' || total, ';') FROM (
                SELECT x.currency, sum(x.value_micros) AS total FROM conversions x
                WHERE x.click_id = c.click_id AND x.value_micros IS NOT NULL
                  AND x.occurred_at BETWEEN c.occurred_at - 1000 AND c.occurred_at + :window
                GROUP BY x.currency ORDER BY x.currency)) AS conversion_values
        FROM user_actions c
        WHERE c.action_type = 'marketing_messages_link_click' AND c.click_id IS NOT NULL
          AND c.occurred_at >= :from AND c.occurred_at < :to
          AND (c.occurred_at > :afterTime OR (c.occurred_at = :afterTime AND c.id > :afterID))
        ORDER BY c.occurred_at, c.id
        LIMIT :limit
        """

/// Non-bot visits whose click id matches no click event, counted by day (UTC) and route.
    static let orphanVisits = """
        SELECT v.visited_at / 86400000 AS day, v.slug, count(*) AS visits
        FROM visits v
        WHERE v.is_bot = 0 AND v.click_id IS NOT NULL AND v.visited_at >= :from AND v.visited_at < :to
          AND NOT EXISTS (SELECT 1 FROM user_actions c
                          WHERE c.click_id = v.click_id AND c.action_type = 'marketing_messages_link_click')
        GROUP BY day, v.slug
        """
}

/// Per-currency sums as the report query hands them over: `CUR micros;CUR micros`.
enum ConversionValues {
    static func decode(_ text: String?) -> [(currency: String?, micros: Int64)] {
        guard let text, !text.isEmpty else { return [] }
        return text.split(separator: ";").compactMap { pair in
            let parts = pair.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let micros = Int64(parts[1]) else { return nil }
            return (parts[0].isEmpty ? nil : String(parts[0]), micros)
        }
    }
}
