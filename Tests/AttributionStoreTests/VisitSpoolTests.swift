import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

/// The per-instance visit spool on a real SQLite file.
@Suite struct VisitSpoolTests {
    static func visit(_ clickID: String) -> Visit {
        Visit(
            visitedAt: 1_764_331_201_250, method: "GET", path: "/summer-sale", slug: "summer-sale", clickID: clickID,
            clickParameters: ["click_id": clickID], clickIDProblem: nil, visitorID: "v", userAgent: "Mozilla/5.0",
            referrer: nil, ip: "203.0.113.0", botReason: nil)
    }

    @Test func visitsComeBackOldestFirstAndAreForgottenOnceShipped() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        // Two group commits: a batch is whole commits, as many as reach the limit.
        try spool.append((0..<3).map { Self.visit("c\($0)") })
        try spool.append((3..<5).map { Self.visit("c\($0)") })
        #expect(spool.depth.rows == 5)
        let batch = try #require(try await spool.oldest(limit: 2))
        #expect(try batch.visits().map(\.visit) == (0..<3).map { Self.visit("c\($0)") })
        #expect(Set(try batch.visits().compactMap(\.key)).count == 3)
        try await spool.forget(batch)
        #expect(spool.depth.rows == 2)
        #expect(try await spool.oldest(limit: 10)?.visits().map(\.visit.clickID) == ["c3", "c4"])
    }

    /// Keys are never reused, even when the spool was emptied and the process restarted: a visit shipped
    /// before must not make a new one look like a duplicate.
    @Test func keysAreNeverReusedAcrossEmptyingAndReopening() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        var seen: Set<String> = []
        for round in 0..<3 {
            let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
            try spool.append([Self.visit("r\(round)")])
            let batch = try #require(try await spool.oldest(limit: 10))
            #expect(try batch.visits().count == 1)
            let key = try #require(try batch.visits()[0].key)
            #expect(!seen.contains(key))
            seen.insert(key)
            try await spool.forget(batch)
            // As the shipper does once it has drained: the next round's instance takes the spool at once, not when
            // this one's last reference happens to go.
            spool.release()
        }
    }

    @Test func everyFieldOfAVisitComesBackAsItWasSpooled() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        let full = Visit(
            visitedAt: -5, method: "HEAD", path: "/é?x=1", slug: nil, clickID: nil,
            clickParameters: ["click_id": "a", "fbclid": "b", "": ""], clickIDProblem: .tooLong, visitorID: nil,
            userAgent: "", referrer: "https://example.com/" + String(repeating: "r", count: 300), ip: "::",
            botReason: "preview: WhatsApp")
        let empty = Visit(
            visitedAt: .max, method: "GET", path: "", slug: "s", clickID: "c", clickParameters: [:],
            clickIDProblem: nil, visitorID: "v", userAgent: nil, referrer: nil, ip: nil, botReason: nil)
        try spool.append([full, empty])
        #expect(try await spool.oldest(limit: 10)?.visits().map(\.visit) == [full, empty])
    }

    /// SQLite ships a spooled batch by binding its records where they lie, and recognises a batch shipped again
    /// by the spool's mark: every field stored as it was spooled, each visit once.
    @Test func aBatchShippedFromItsRecordsStoresWhatItsVisitsSay() async throws {
        let folder = try Scratch.directory("spool")
        let spool = try VisitSpool(path: folder.appendingPathComponent("spool.sqlite").path, maxBytes: 1 << 20)
        let full = Visit(
            visitedAt: 1_764_331_201_000, method: "HEAD", path: "/é?x=1", slug: nil, clickID: nil,
            clickParameters: ["click_id": "a\"b\\c\n\u{1}é", "fbclid": "b", "": ""], clickIDProblem: .tooLong,
            visitorID: nil, userAgent: "", referrer: "https://example.com/" + String(repeating: "r", count: 300),
            ip: "::", botReason: "preview: WhatsApp")
        let empty = Visit(
            visitedAt: 1_764_331_202_000, method: "GET", path: "", slug: "s", clickID: "c", clickParameters: [:],
            clickIDProblem: nil, visitorID: "v", userAgent: nil, referrer: nil, ip: nil, botReason: nil)
        try spool.append([full, empty])
        try spool.append((0..<3).map { Self.visit("c\($0)") })
        let batch = try #require(try await spool.oldest(limit: 100))
        #expect(batch.count == 5)

        let store = try SQLiteStore(path: folder.appendingPathComponent("clickattr.sqlite").path)
        try await store.migrate()
        #expect(try await store.recordSpooled(batch) == 5)
        #expect(try await store.recordSpooled(batch) == 0, "a batch shipped again is recognised by the spool's mark")
        let stored = try await store.recentVisits(limit: 10)
        #expect(stored.count == 5)
        for visit in try batch.visits().map(\.visit) { #expect(stored.contains(visit)) }
        #expect(stored.contains(full) && stored.contains(empty))
    }

    /// A spool written by an earlier clickattr holds one visit to a row: those are shipped first, under the keys
    /// they always had, so a batch shipped before the upgrade is still stored once.
    @Test func visitsSpooledOneToARowAreShippedFirstUnderTheirOwnKeys() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        try VisitSpool(path: path, maxBytes: 1 << 20).append([Self.visit("new")])
        let identity = try await DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    INSERT INTO spooled_visits (bytes, visited_at, method, path, slug, click_id, click_parameters,
                        visitor_id, user_agent, ip)
                    VALUES (100, 1764331201250, 'GET', '/summer-sale', 'summer-sale', 'old', '{"click_id":"old"}',
                        'v', 'Mozilla/5.0', '203.0.113.0')
                    """)
            return try String.fetchOne(db, sql: "SELECT id FROM spool_identity")!
        }
        let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        #expect(spool.depth.rows == 2)
        let legacy = try #require(try await spool.oldest(limit: 10))
        #expect(try legacy.visits().map(\.visit) == [Self.visit("old")])
        #expect(try legacy.visits().map(\.key) == ["\(identity):1"])
        try await spool.forget(legacy)
        let batch = try #require(try await spool.oldest(limit: 10))
        #expect(try batch.visits().map(\.visit) == [Self.visit("new")])
        try await spool.forget(batch)
        #expect(spool.depth.rows == 0)
        #expect(try await spool.oldest(limit: 10) == nil)
    }

    @Test func aSecondInstanceCannotTakeTheSameSpool() throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        let first = try VisitSpool(path: path, maxBytes: 1 << 20)
        #expect(throws: StoreOpenError.self) { try VisitSpool(path: path, maxBytes: 1 << 20) }
        withExtendedLifetime(first) {}
    }

    @Test func pastItsBoundTheSpoolRefusesAndKeepsWhatItHolds() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        let spool = try VisitSpool(path: path, maxBytes: 2_000)
        var refused = 0
        for index in 0..<20 {
            do {
                try spool.append([Self.visit("bounded-\(index)")])
            } catch is VisitSpool.Full {
                refused += 1
            }
        }
        let held = spool.depth
        #expect(refused > 0 && held.rows + refused == 20)
        #expect(held.bytes <= 2_000)
        #expect(try await spool.oldest(limit: 100)?.count == held.rows)
    }
}

/// A database that times out on batches larger than it can commit in time, as PostgreSQL does on busy cores.
final class SlowDestination: SpoolDestination {
    let largestBatch: Int
    /// How long each batch blocks its thread, as a database's work would.
    let delay: Duration
    private let stored = Mutex<Set<String>>([])
    private let refused = Atomic<Int>(0)
    /// When each batch began and ended.
    private let times = Mutex<[(began: ContinuousClock.Instant, ended: ContinuousClock.Instant)]>([])

    init(largestBatch: Int, delay: Duration = .zero) {
        self.largestBatch = largestBatch
        self.delay = delay
    }

    var count: Int { stored.withLock { $0.count } }
    var refusals: Int { refused.load(ordering: .relaxed) }
    var batches: [(began: ContinuousClock.Instant, ended: ContinuousClock.Instant)] { times.withLock { $0 } }

    func recordSpooled(_ batch: VisitSpool.Batch) async throws -> Int {
        let began = ContinuousClock.now
        defer { times.withLock { $0.append((began, ContinuousClock.now)) } }
        let visits = try batch.visits()
        if delay > .zero { usleep(UInt32(delay / .microseconds(1))) }
        guard visits.count <= largestBatch else {
            refused.add(1, ordering: .relaxed)
            throw TimedOut()
        }
        return stored.withLock { keys in visits.filter { keys.insert($0.key ?? "").inserted }.count }
    }

    struct TimedOut: Error {}
}

@Suite struct SpoolShipperTests {
    @Test func aBatchTooBigForTheDatabaseIsCutUntilItFits() async throws {
        let path = try Scratch.directory("shipper").appendingPathComponent("spool.sqlite").path
        let spool = try VisitSpool(path: path, maxBytes: 1 << 30)
        // In commits of 100, as the visit writer makes them (never more than storage.batch.max_size).
        for start in stride(from: 0, to: 3_000, by: 100) {
            try spool.append((start..<start + 100).map { VisitSpoolTests.visit("c\($0)") })
        }
        let destination = SlowDestination(largestBatch: 300)
        let shipper = SpoolShipper(spool: spool, store: destination, logger: Logger(label: "test"), batchSize: 5_000)
        var outcomes: [SpoolShipper.Outcome] = []
        for _ in 0..<20 where spool.depth.rows > 0 {
            outcomes.append(await shipper.shipAll())
        }
        // 5000, 2500, 1250, 625 and 312 (400: whole commits) fail; 156 (200) ships, and keeps shipping (after eight, one try at 312 again):
        // nothing is retried whole for ever.
        #expect(destination.count == 3_000 && spool.depth.rows == 0)
        #expect(outcomes.last == .empty)
        #expect((5...8).contains(destination.refusals))
        #expect(shipper.nextBatchSize <= 300)
    }

    /// While the cores are saturated the shipper rests nine times as long as each batch took before the next; not
    /// once the spool holds more than a quarter of its bound.
    @Test func onSaturatedCoresTheShipperRestsUntilTheSpoolHoldsAQuarterOfItsBound() async throws {
        func spooled(maxBytes: Int64) throws -> VisitSpool {
            let path = try Scratch.directory("give-way").appendingPathComponent("spool.sqlite").path
            let spool = try VisitSpool(path: path, maxBytes: maxBytes)
            for start in stride(from: 0, to: 300, by: 100) {
                try spool.append((start..<start + 100).map { VisitSpoolTests.visit("c\($0)") })
            }
            return spool
        }
        /// Ships the three commits in batches of 100 on saturated cores: the batches' times, and how often the
        /// shipper asked whether the cores are saturated.
        func shipping(_ spool: VisitSpool) async -> (batches: [(began: ContinuousClock.Instant, ended: ContinuousClock.Instant)], asked: Int) {
            let destination = SlowDestination(largestBatch: 100, delay: .milliseconds(10))
            let asked = Atomic<Int>(0)
            let shipper = SpoolShipper(
                spool: spool, store: destination, logger: Logger(label: "test"), batchSize: 100,
                coresSaturated: {
                    asked.add(1, ordering: .relaxed)
                    return true
                })
            #expect(await shipper.shipAll() == .empty)
            #expect(destination.count == 300 && spool.depth.rows == 0)
            return (destination.batches, asked.load(ordering: .relaxed))
        }
        let roomy = try spooled(maxBytes: 1 << 30)
        let held = roomy.depth.bytes
        // After each of the first two batches (of at least 10 ms), a rest of at least nine times its time; none
        // after the last, with nothing left to ship.
        let rested = await shipping(roomy)
        #expect(rested.batches.count == 3 && rested.asked >= 2)
        for (batch, next) in zip(rested.batches, rested.batches.dropFirst()) {
            #expect(next.began - batch.ended >= (batch.ended - batch.began) * 9)
        }
        // Bound to what the three commits hold: after each batch more than a quarter of it still waits, and the
        // shipper does not rest (nor ask).
        let bound = await shipping(try spooled(maxBytes: held))
        #expect(bound.batches.count == 3 && bound.asked == 0)
    }
}
