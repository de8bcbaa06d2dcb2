import AttributionCore
import ClickattrTestSupport
import Foundation
import GRDB
import Testing

@testable import AttributionStore

/// The spool's log on real files: what survives a restart, an append cut short, damage, and segments written over.
@Suite struct SpoolLogTests {
    static func visits(_ prefix: String, _ count: Int) -> [Visit] {
        (0..<count).map { VisitSpoolTests.visit("\(prefix)-\($0)") }
    }

    static func spoolPath() throws -> String {
        try Scratch.directory("spool-log").appendingPathComponent("spool.sqlite").path
    }

    /// A released spool whose log holds two frames, `a` visits then `b` visits, and the segment holding them.
    static func twoFrames(_ a: Int, _ b: Int) throws -> (path: String, segment: String) {
        let path = try spoolPath()
        let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        try spool.append(visits("a", a))
        try spool.append(visits("b", b))
        let segment = try #require(spool.logSegments.last)
        spool.release()
        return (path, segment)
    }

    /// Ships every batch; returns the click ids shipped, in order.
    static func shipAll(_ spool: VisitSpool) async throws -> [String] {
        var shipped: [String] = []
        while let batch = try await spool.oldest(limit: 4) {
            shipped += try batch.visits().compactMap(\.visit.clickID)
            try await spool.forget(batch)
        }
        return shipped
    }

    @Test func framesOutliveTheProcessAndShippedOnesStayShipped() async throws {
        let path = try Self.spoolPath()
        var spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        try spool.append(Self.visits("a", 2))
        try spool.append(Self.visits("b", 3))
        let first = try #require(try await spool.oldest(limit: 1))
        let keys = try first.visits().map(\.key)
        try await spool.forget(first)
        let second = try #require(try await spool.oldest(limit: 10))
        let secondKeys = try second.visits().map(\.key)
        spool.release()

        spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        #expect(spool.depth.rows == 3, "the shipped frame stays shipped; the other comes back")
        let again = try #require(try await spool.oldest(limit: 10))
        #expect(try again.visits().map(\.visit) == Self.visits("b", 3))
        #expect(try again.visits().map(\.key) == secondKeys, "a frame keeps its keys across a restart")
        try await spool.forget(again)
        try spool.append(Self.visits("c", 1))
        let next = try #require(try await spool.oldest(limit: 10))
        let nextKeys = try next.visits().map(\.key)
        #expect(Set(nextKeys).isDisjoint(with: keys + secondKeys), "numbers are not reused")
        try await spool.forget(next)
        spool.release()

        spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        #expect(spool.depth.rows == 0)
        #expect(try await spool.oldest(limit: 10) == nil)
    }

    /// A crash while a frame is written leaves part of it at the end of its segment; no visitor was answered on
    /// it. The next start reads the frames before it, and the log goes on in a new segment.
    @Test func anAppendCutShortIsLeftBehindAndTheLogGoesOn() async throws {
        for tail in [
            Array("CAv1".utf8) + [9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 200, 0, 0, 0] + [UInt8](repeating: 7, count: 30),
            [UInt8](repeating: 0xA5, count: 11),
            Array("CAv1".utf8),
        ] {
            let (path, segment) = try Self.twoFrames(2, 1)
            let handle = try #require(FileHandle(forWritingAtPath: segment))
            handle.seekToEndOfFile()
            handle.write(Data(tail))
            handle.closeFile()

            var spool = try VisitSpool(path: path, maxBytes: 1 << 20)
            #expect(spool.depth.rows == 3)
            try spool.append(Self.visits("c", 1))
            spool.release()
            spool = try VisitSpool(path: path, maxBytes: 1 << 20)
            #expect(try await Self.shipAll(spool) == ["a-0", "a-1", "b-0", "c-0"])
            spool.release()
        }
    }

    /// A frame that no longer checks, with frames that do after it, is damage to visits that were answered: the
    /// spool does not open and says where.
    @Test func aDamagedFrameKeepsTheSpoolFromOpening() async throws {
        let (path, segment) = try Self.twoFrames(2, 2)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[SpoolLog.headerSize + 10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: segment))

        let error = try #require(throws: StoreOpenError.self) { try VisitSpool(path: path, maxBytes: 1 << 20) }
        #expect(error.description.contains("is damaged at byte 0"))
        #expect(error.description.contains(segment))
    }

    /// Past `segmentBytes` the log goes on in a new segment; a shipped segment is kept as the spare and written
    /// over by a later one, whose old frames (numbered below it) are not read back.
    @Test func shippedSegmentsAreWrittenOver() async throws {
        let path = try Self.spoolPath()
        var spool = try VisitSpool(path: path, maxBytes: 1 << 20, segmentBytes: 1_024)
        for index in 0..<12 { try spool.append(Self.visits("a\(index)", 3)) }
        #expect(spool.logSegments.count >= 4)
        #expect(try await Self.shipAll(spool).count == 36)
        #expect(spool.logSegments.count == 1, "only the segment being written is left")
        let spare = path + ".log-spare"
        #expect(FileManager.default.fileExists(atPath: spare))
        let written = spool.logSegments
        // The current segment grew its file; the next frames go on in the spare, under a new name.
        for index in 0..<4 { try spool.append(Self.visits("b\(index)", 1)) }
        #expect(!FileManager.default.fileExists(atPath: spare))
        #expect(spool.logSegments.count == 2 && spool.logSegments.first == written.first)
        let reused = try Data(contentsOf: URL(fileURLWithPath: try #require(spool.logSegments.last)))
        #expect((0..<12).contains { reused.range(of: Data("a\($0)-".utf8)) != nil }, "old frames are still in it")
        spool.release()

        spool = try VisitSpool(path: path, maxBytes: 1 << 20, segmentBytes: 1_024)
        #expect(try await Self.shipAll(spool) == ["b0-0", "b1-0", "b2-0", "b3-0"])
    }

    /// Visits spooled by an earlier clickattr, a commit to a row of the spool's SQLite file, are shipped before
    /// the log's, under the keys they always had.
    @Test func rowsOfAnEarlierSpoolAreShippedFirstUnderTheirKeys() async throws {
        let path = try Self.spoolPath()
        try VisitSpool(path: path, maxBytes: 1 << 20).release()
        let identity = try await DatabaseQueue(path: path).write { db in
            var records: [UInt8] = []
            for visit in Self.visits("old", 2) { SpoolRecord.append(visit, to: &records) }
            try db.execute(
                sql: "INSERT INTO spooled_batches (visits, bytes, records) VALUES (2, ?, ?)",
                arguments: [records.count + 32, Data(records)])
            return try String.fetchOne(db, sql: "SELECT id FROM spool_identity")!
        }
        let spool = try VisitSpool(path: path, maxBytes: 1 << 20)
        try spool.append(Self.visits("new", 1))
        #expect(spool.depth.rows == 3)
        let old = try #require(try await spool.oldest(limit: 10))
        #expect(try old.visits().map(\.visit) == Self.visits("old", 2))
        #expect(try old.visits().map(\.key) == ["\(identity):1.0", "\(identity):1.1"])
        try await spool.forget(old)
        let new = try #require(try await spool.oldest(limit: 10))
        #expect(try new.visits().map(\.visit) == Self.visits("new", 1))
        #expect(try new.visits().allSatisfy { $0.key?.hasPrefix(identity) == false }, "the log has an identity of its own")
        try await spool.forget(new)
        #expect(spool.depth.rows == 0)
    }
}
