/// What the dashboard's rollups ask to know which hours to count again: where each table's ids stand, and
/// which hours rows stored since then can change. One set of queries, spelled for each database's placeholders.
struct ChangeSQL {
    static let sqlite = ChangeSQL(actions: ":actions", visits: ":visits", conversions: ":conversions")
    static let postgres = ChangeSQL(actions: "$1", visits: "$2", conversions: "$3")

    /// The newest id of each table and the number of purges that deleted something.
    static let marks = """
        SELECT (SELECT coalesce(max(id), 0) FROM user_actions), (SELECT coalesce(max(id), 0) FROM visits),
            (SELECT coalesce(max(id), 0) FROM conversions),
            (SELECT coalesce(max(value), 0) FROM data_generations WHERE name = 'purge')
        """

    /// Counts a purge that deleted rows, so that every cached day is counted again.
    static let notePurge = """
        INSERT INTO data_generations (name, value) VALUES ('purge', 1)
        ON CONFLICT (name) DO UPDATE SET value = data_generations.value + 1
        """

    /// The hours whose figures rows stored after the marks can change: the click hour of a new click, of a click a
    /// new visit or conversion carries the id of; the visit hour of a new human visit with a click id (it may be an
    /// orphan), and of the human visits a new click claims (they stop being orphans).
    let changedHours: String

    private init(actions: String, visits: String, conversions: String) {
        let linkClick = PurgeSQL.linkClick
        changedHours = """
            SELECT c.occurred_at / 3600000 FROM user_actions c
            WHERE c.id > \(actions) AND c.action_type = \(linkClick)
            UNION
            SELECT c.occurred_at / 3600000 FROM visits v
            JOIN user_actions c ON c.click_id = v.click_id AND c.action_type = \(linkClick)
            WHERE v.id > \(visits)
            UNION
            SELECT c.occurred_at / 3600000 FROM conversions x
            JOIN user_actions c ON c.click_id = x.click_id AND c.action_type = \(linkClick)
            WHERE x.id > \(conversions)
            UNION
            SELECT v.visited_at / 3600000 FROM visits v
            WHERE v.id > \(visits) AND \(Self.human("v")) AND v.click_id IS NOT NULL
            UNION
            SELECT v.visited_at / 3600000 FROM user_actions c
            JOIN visits v ON v.click_id = c.click_id AND \(Self.human("v"))
            WHERE c.id > \(actions) AND c.action_type = \(linkClick)
            """
    }

    /// `is_bot` is an integer in SQLite and a boolean in PostgreSQL; `NOT` reads both.
    private static func human(_ table: String) -> String { "NOT \(table).is_bot" }
}
