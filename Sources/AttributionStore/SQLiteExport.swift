import AttributionCore
import Crypto
import Foundation
import GRDB

/// Reads a clickattr SQLite database, read-only, in pages by id: what `clickattr import sqlite` copies into
/// PostgreSQL.
public final class SQLiteExport: Sendable {
    private let queue: DatabaseQueue

    /// Opens `path` read-only; a file that is not a clickattr database says so.
    public init(path: String) throws(StoreOpenError) {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreOpenError(reason: "there is no file '\(path)'") }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let tables = try queue.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            let needed = ["webhook_deliveries", "user_actions", "visits", "conversions"]
            guard Set(needed).isSubset(of: tables) else {
                throw StoreOpenError(reason: "'\(path)' is not a clickattr database (run `clickattr migrate` on it first?)")
            }
        } catch let error as StoreOpenError {
            throw error
        } catch let error as DatabaseError {
            throw StoreOpenError(reason: "'\(path)' cannot be read as SQLite: \(error.message ?? "\(error.resultCode)")")
        } catch {
            throw StoreOpenError(reason: "'\(path)' cannot be read: \(error)")
        }
    }

    /// A stored delivery with what is known of its receipts, and the actions first stored from it.
    public struct Delivery: Sendable {
        public let id: Int64
        public let bodySHA256: String
        public let body: [UInt8]
        public let receivedAt: Int64
        public let lastReceivedAt: Int64
        public let receipts: Int
        public let source: String
        public var actions: [(action: UserAction, receivedAt: Int64)] = []
    }

    public func deliveries(after id: Int64, limit: Int) async throws -> [Delivery] {
        try await queue.read { db in
            var deliveries = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, body_sha256, body, received_at, last_received_at, receipts, source
                    FROM webhook_deliveries WHERE id > ? ORDER BY id LIMIT ?
                    """, arguments: [id, limit]
            ).map { row in
                Delivery(
                    id: row[0], bodySHA256: row[1], body: Array(row[2] as Data), receivedAt: row[3],
                    lastReceivedAt: row[4], receipts: row[5], source: row[6])
            }
            guard let first = deliveries.first?.id, let last = deliveries.last?.id else { return [] }
            let index = Dictionary(uniqueKeysWithValues: deliveries.enumerated().map { ($0.element.id, $0.offset) })
            let actions = try Row.fetchCursor(
                db,
                sql: """
                    SELECT delivery_id, action_key, action_type, occurred_at, received_at, waba_id, phone_number_id,
                        display_phone_number, click_id, tracking_token, click_component, product_id, raw
                    FROM user_actions WHERE delivery_id BETWEEN ? AND ? ORDER BY id
                    """, arguments: [first, last])
            while let row = try actions.next() {
                guard let position = index[row[0]] else { continue }
                deliveries[position].actions.append(
                    (
                        UserAction(
                            key: row[1], actionType: row[2], occurredAt: row[3], wabaID: row[5], phoneNumberID: row[6],
                            displayPhoneNumber: row[7], clickID: row[8], trackingToken: row[9], clickComponent: row[10],
                            productID: row[11], rawJSON: row[12]),
                        row[4]
                    ))
            }
            return deliveries
        }
    }

    /// Visits after `id`, each with a key that is the same on every import of this file and differs between
    /// files (the rowid and a digest of the visit), so that importing again stores nothing twice.
    public func visits(after id: Int64, limit: Int) async throws -> (last: Int64, visits: [(key: String?, visit: Visit)]) {
        try await queue.read { db in
            var last = id
            var visits: [(key: String?, visit: Visit)] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, visited_at, method, path, slug, click_id, click_parameters, click_id_problem, visitor_id,
                        user_agent, referrer, ip, bot_reason
                    FROM visits WHERE id > ? ORDER BY id LIMIT ?
                    """, arguments: [id, limit])
            while let row = try rows.next() {
                last = row[0]
                let visit = Visit(
                    visitedAt: row[1], method: row[2], path: row[3], slug: row[4], clickID: row[5],
                    clickParameters: ClickParameters.decode(row[6]),
                    clickIDProblem: (row[7] as String?).flatMap(ClickID.Problem.init(rawValue:)), visitorID: row[8],
                    userAgent: row[9], referrer: row[10], ip: row[11], botReason: row[12])
                visits.append((Self.key("visit", id: last, [visit.visitedAt.description, visit.path, visit.clickID, visit.visitorID, visit.userAgent, visit.ip]), visit))
            }
            return (last, visits)
        }
    }

    /// Conversions after `id`, each with its received time and a key made like a visit's.
    public func conversions(after id: Int64, limit: Int) async throws
        -> (last: Int64, conversions: [(key: String, conversion: Conversion, receivedAt: Int64)])
    {
        try await queue.read { db in
            var last = id
            var conversions: [(key: String, conversion: Conversion, receivedAt: Int64)] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, event, order_id, click_id, visitor_id, value_micros, currency, occurred_at, received_at, source
                    FROM conversions WHERE id > ? ORDER BY id LIMIT ?
                    """, arguments: [id, limit])
            while let row = try rows.next() {
                last = row[0]
                let conversion = Conversion(
                    event: row[1], clickID: row[3], visitorID: row[4], valueMicros: row[5], currency: row[6],
                    orderID: row[2], occurredAt: row[7], source: Conversion.Source(rawValue: row[9]) ?? .api)
                let key = Self.key(
                    "conversion", id: last,
                    [conversion.event, conversion.orderID, conversion.clickID, conversion.occurredAt.description])
                conversions.append((key, conversion, row[8]))
            }
            return (last, conversions)
        }
    }

    private static func key(_ kind: String, id: Int64, _ parts: [String?]) -> String {
        let text = parts.map { $0 ?? "\u{1}" }.joined(separator: "\u{0}")
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return "sqlite-\(kind):\(id):\(digest)"
    }
}
