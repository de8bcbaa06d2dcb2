import AttributionCore
import ClickattrTestSupport
import Foundation
import GRDB
import Testing

@testable import AttributionStore

/// Upgrading a SQLite database whose visits carry spool keys: each spool's mark starts at the last row shipped,
/// so a batch committed but not forgotten before the upgrade is not stored twice after it.
@Suite struct SpoolMarksMigrationTests {
    @Test func theMarksStartFromTheKeysAlreadyStored() async throws {
        let folder = try Scratch.directory("marks")
        let path = folder.appendingPathComponent("clickattr.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteMigrations.migrator.migrate(queue, upTo: "v7: visit keys")
        let keys = [
            "4f1c:5.0", "4f1c:7.3", "4f1c:7.0", "4f1c:12", "4f1c:3", "9a2b:2.1", "9a2b:10.0", nil,
        ]
        try await queue.write { db in
            for key in keys {
                try db.execute(
                    sql: "INSERT INTO visits (visited_at, method, path, is_bot, visit_key) VALUES (1, 'GET', '/', 0, ?)",
                    arguments: [key])
            }
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        try await store.migrate()
        let marks = try await DatabaseQueue(path: path).read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT spool, shipped_through FROM spool_marks").map {
                    (($0[0] as String), ($0[1] as Int64))
                })
        }
        #expect(marks == ["4f1c": 7, "4f1c/legacy": 12, "9a2b": 10])
        #expect(try await store.counts().visits == keys.count, "the visits stay")
    }
}
