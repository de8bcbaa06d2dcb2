import AttributionCore
import AttributionStore
import ClickattrTestSupport
import Foundation
import Synchronization
import Testing

/// A commit for the visit writer's thread that records its batches and can be held shut.
final class ThreadCommit: Sendable {
    private let state = Mutex<(batches: [[String]], shut: Bool, held: Int)>(([], false, 0))

    var batches: [[String]] { state.withLock { $0.batches } }
    var committed: [String] { batches.flatMap { $0 } }
    var held: Int { state.withLock { $0.held } }

    func close() { state.withLock { $0.shut = true } }
    func open() { state.withLock { $0.shut = false } }

    @Sendable func commit(_ visits: [Visit]) throws {
        state.withLock { $0.held += 1 }
        while state.withLock({ $0.shut }) { usleep(1_000) }
        state.withLock { $0.held -= 1 }
        if visits.contains(where: { $0.clickID == "fails" }) { throw Failed() }
        state.withLock { $0.batches.append(visits.compactMap(\.clickID)) }
    }

    struct Failed: Error {}
}

/// Tickets handed back by commit: which tickets each call carried.
final class RecordingListener: VisitCommitListener {
    private let calls = Mutex<[(tickets: [Int], failed: Bool)]>([])

    var all: [(tickets: [Int], failed: Bool)] { calls.withLock { $0 } }
    var tickets: [Int] { all.flatMap(\.tickets) }

    func committed(_ tickets: [AnyObject], result: Result<Void, any Error>) {
        let numbers = tickets.map { ($0 as! Ticket).number }
        let failed = if case .failure = result { true } else { false }
        calls.withLock { $0.append((numbers, failed)) }
    }

    final class Ticket {
        let number: Int
        init(_ number: Int) { self.number = number }
    }
}

@Suite struct VisitWriterTests {
    static func visit(_ clickID: String) -> Visit {
        Visit(
            visitedAt: 1_764_331_201_250, method: "GET", path: "/summer-sale", slug: "summer-sale", clickID: clickID,
            clickParameters: [:], clickIDProblem: nil, visitorID: nil, userAgent: nil, referrer: nil, ip: nil,
            botReason: nil)
    }

    /// Runs `body` with the writer running, then stops it (it commits what is queued first).
    static func running(_ writer: VisitWriter, _ body: () async throws -> Void) async throws {
        let run = Task { try await writer.run() }
        try await body()
        run.cancel()
        try await run.value
    }

    @Test func concurrentVisitsShareFewCommitsAndEachWaitsForItsOwn() async throws {
        let commit = ThreadCommit()
        let lost = Mutex(0)
        let writer = VisitWriter(limits: BatchLimits(maxBatchSize: 64), commit: commit.commit) { _, _ in
            lost.withLock { $0 += 1 }
        }
        try await Self.running(writer) {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<1_000 {
                    group.addTask {
                        try? await writer.submit(Self.visit("c\(index)"))
                        #expect(commit.committed.contains("c\(index)"))
                    }
                }
            }
        }
        #expect(Set(commit.committed) == Set((0..<1_000).map { "c\($0)" }) && commit.committed.count == 1_000)
        #expect(commit.batches.count < 1_000 && commit.batches.allSatisfy { $0.count <= 64 })
        #expect(lost.withLock { $0 } == 0)
    }

    @Test func aListenerHearsOncePerCommitOfAllItsTickets() async throws {
        let commit = ThreadCommit()
        let writer = VisitWriter(limits: BatchLimits(maxBatchSize: 512), commit: commit.commit) { _, _ in }
        let (first, second) = (RecordingListener(), RecordingListener())
        commit.close()
        try await Self.running(writer) {
            // The first visit is held in its commit while twenty more queue, for two listeners.
            try writer.submit(Self.visit("held"), listener: first, ticket: RecordingListener.Ticket(-1))
            try await waitUntil { commit.held == 1 }
            for index in 0..<20 {
                let listener = index.isMultiple(of: 2) ? first : second
                try writer.submit(Self.visit("c\(index)"), listener: listener, ticket: RecordingListener.Ticket(index))
            }
            commit.open()
            try await waitUntil { first.tickets.count == 11 && second.tickets.count == 10 }
        }
        #expect(first.all.map(\.tickets) == [[-1], Array(stride(from: 0, to: 20, by: 2))])
        #expect(second.all.map(\.tickets) == [Array(stride(from: 1, to: 20, by: 2))])
        #expect(commit.batches.count == 2)
    }

    @Test func aFullQueueRefusesAtOnceAndAFailedCommitLosesEachOfItsVisits() async throws {
        let commit = ThreadCommit()
        let lost = Mutex<[String]>([])
        let writer = VisitWriter(limits: BatchLimits(maxBatchSize: 10, queueCapacity: 2), commit: commit.commit) {
            visit, _ in lost.withLock { $0.append(visit.clickID ?? "") }
        }
        let listener = RecordingListener()
        commit.close()
        try await Self.running(writer) {
            try writer.submit(Self.visit("held"), listener: listener, ticket: RecordingListener.Ticket(0))
            try await waitUntil { commit.held == 1 }
            try writer.submit(Self.visit("fails"), listener: listener, ticket: RecordingListener.Ticket(1))
            try writer.submit(Self.visit("with-it"), listener: listener, ticket: RecordingListener.Ticket(2))
            #expect(throws: VisitWriter.Refusal.queueFull) {
                try writer.submit(Self.visit("refused"), listener: listener, ticket: RecordingListener.Ticket(3))
            }
            #expect(writer.queuedCount == 2)
            commit.open()
            try await waitUntil { listener.tickets.count == 3 }
        }
        #expect(listener.all.map(\.failed) == [false, true])
        #expect(commit.committed == ["held"])
        // The writer reports what a failed commit lost; a refused visit is its caller's to report.
        #expect(lost.withLock { $0 } == ["fails", "with-it"])
    }

    @Test func stoppingCommitsWhatIsQueuedAndRefusesTheRest() async throws {
        let commit = ThreadCommit()
        let writer = VisitWriter(limits: BatchLimits(), commit: commit.commit) { _, _ in }
        let listener = RecordingListener()
        commit.close()
        let run = Task { try await writer.run() }
        try writer.submit(Self.visit("held"), listener: listener, ticket: RecordingListener.Ticket(0))
        try await waitUntil { commit.held == 1 }
        try writer.submit(Self.visit("queued"), listener: listener, ticket: RecordingListener.Ticket(1))
        writer.stop()
        #expect(throws: VisitWriter.Refusal.stopped) {
            try writer.submit(Self.visit("late"), listener: listener, ticket: RecordingListener.Ticket(2))
        }
        await #expect(throws: VisitWriter.Refusal.stopped) { try await writer.submit(Self.visit("later")) }
        commit.open()
        try await run.value
        #expect(commit.committed == ["held", "queued"])
        #expect(listener.tickets == [0, 1])
    }
}
