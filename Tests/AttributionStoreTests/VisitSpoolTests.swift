import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Foundation
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
        try await spool.append((0..<5).map { Self.visit("c\($0)") })
        #expect(spool.depth.rows == 5)
        let batch = try #require(try await spool.oldest(limit: 3))
        #expect(batch.visits.map(\.visit.clickID) == ["c0", "c1", "c2"])
        #expect(Set(batch.visits.compactMap(\.key)).count == 3)
        try await spool.forget(batch)
        #expect(spool.depth.rows == 2)
        #expect(try await spool.oldest(limit: 10)?.visits.map(\.visit.clickID) == ["c3", "c4"])
    }

    /// Keys are never reused, even when the spool was emptied and the process restarted: a visit shipped
    /// before must not make a new one look like a duplicate.
    @Test func keysAreNeverReusedAcrossEmptyingAndReopening() async throws {
        let path = try Scratch.directory("spool").appendingPathComponent("spool.sqlite").path
        var seen: Set<String> = []
        for round in 0..<3 {
            let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
            try await spool.append([Self.visit("r\(round)")])
            let batch = try #require(try await spool.oldest(limit: 10))
            #expect(batch.visits.count == 1)
            let key = try #require(batch.visits[0].key)
            #expect(!seen.contains(key))
            seen.insert(key)
            try await spool.forget(batch)
        }
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
                try await spool.append([Self.visit("bounded-\(index)")])
            } catch is VisitSpool.Full {
                refused += 1
            }
        }
        let held = spool.depth
        #expect(refused > 0 && held.rows + refused == 20)
        #expect(held.bytes <= 2_000)
        #expect(try await spool.oldest(limit: 100)?.visits.count == held.rows)
    }
}
