import AttributionStore
import ClickattrTestSupport
import Synchronization
import Testing

/// A commit function that records what it was given and can be held shut to let a queue build up.
final class RecordingCommit: Sendable {
    private let batchesSeen = Mutex<[[Int]]>([])
    private let gate: Gate

    init(gateOpen: Bool = true) {
        gate = Gate(open: gateOpen)
    }

    var batches: [[Int]] { batchesSeen.withLock { $0 } }
    /// Commit calls waiting at the shut gate.
    var heldCommits: Int { gate.waiting }
    var committed: [Int] { batches.flatMap { $0 } }

    func open() { gate.open() }

    @Sendable func commit(_ items: [Int]) async throws -> [String] {
        await gate.pass()
        if items.contains(-1) { throw CommitFailed() }
        batchesSeen.withLock { $0.append(items) }
        return items.map { "stored \($0)" }
    }

    struct CommitFailed: Error {}
}

@Suite struct BatchWriterTests {
    @Test func manyConcurrentSubmitsShareFewCommitsAndEachWaitsForItsOwn() async throws {
        let recorder = RecordingCommit()
        let writer = BatchWriter(limits: BatchLimits(maxBatchSize: 64, queueCapacity: 10_000), commit: recorder.commit)
        let running = Task { try await writer.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in 0..<2_000 {
                group.addTask {
                    let outcome = try await writer.submit(item)
                    #expect(outcome == "stored \(item)")
                    // Answering before the commit would be a lie to the visitor's browser.
                    #expect(recorder.committed.contains(item))
                }
            }
            try await group.waitForAll()
        }
        writer.stop()
        try await running.value
        #expect(recorder.committed.sorted() == Array(0..<2_000))
        #expect(recorder.batches.count < 2_000)
        #expect(recorder.batches.allSatisfy { $0.count <= 64 })
    }

    @Test func aFullQueueRefusesAtOnce() async throws {
        let recorder = RecordingCommit(gateOpen: false)
        let writer = BatchWriter(limits: BatchLimits(maxBatchSize: 1, queueCapacity: 2), commit: recorder.commit)
        let running = Task { try await writer.run() }
        // One item is held in the shut commit, two more fill the queue.
        var held = [Task { try await writer.submit(0) }]
        try await waitUntil { recorder.heldCommits == 1 }
        held += (1...2).map { item in Task { try await writer.submit(item) } }
        try await waitUntil { writer.queuedCount == 2 }
        await #expect(throws: BatchWriter<Int, String>.Refusal.queueFull) { try await writer.submit(99) }
        recorder.open()
        for task in held { _ = try await task.value }
        writer.stop()
        try await running.value
        #expect(recorder.committed.sorted() == [0, 1, 2])
    }

    /// The event loop's way in: a callback after the commit, or the refusal at once on the caller's thread.
    @Test func aCallbackHearsOfItsCommitOrItsRefusal() async throws {
        let recorder = RecordingCommit(gateOpen: false)
        let writer = BatchWriter(limits: BatchLimits(maxBatchSize: 10, queueCapacity: 1), commit: recorder.commit)
        let running = Task { try await writer.run() }
        let heard = Collected<String>()
        writer.submit(1) { heard.append((try? $0.get()) ?? "failed") }
        try await waitUntil { recorder.heldCommits == 1 }
        writer.submit(2) { heard.append((try? $0.get()) ?? "failed") }
        #expect(writer.queuedCount == 1)
        // Full: the refusal comes back before submit returns.
        writer.submit(3) { result in
            if case .failure(let error) = result { heard.append("\(error)") }
        }
        #expect(heard.all == ["the write queue is full"])
        recorder.open()
        try await waitUntil { heard.all.count == 3 }
        #expect(heard.all.sorted() == ["stored 1", "stored 2", "the write queue is full"])
        writer.stop()
        try await running.value
        writer.submit(4) { result in
            if case .failure(let error) = result { heard.append("\(error)") }
        }
        #expect(heard.all.last == "the writer has stopped")
    }

    @Test func stoppingDrainsEverythingQueuedThenRefuses() async throws {
        let recorder = RecordingCommit(gateOpen: false)
        let writer = BatchWriter(limits: BatchLimits(maxBatchSize: 10, queueCapacity: 100), commit: recorder.commit)
        let running = Task { try await writer.run() }
        var queued = [Task { try await writer.submit(0) }]
        try await waitUntil { recorder.heldCommits == 1 }
        queued += (1..<50).map { item in Task { try await writer.submit(item) } }
        try await waitUntil { writer.queuedCount == 49 }
        writer.stop()
        await #expect(throws: BatchWriter<Int, String>.Refusal.stopped) { try await writer.submit(100) }
        recorder.open()
        for task in queued { _ = try await task.value }
        try await running.value
        #expect(recorder.committed.sorted() == Array(0..<50))
    }

    @Test func aFailedCommitFailsEveryItemOfItsBatch() async throws {
        let recorder = RecordingCommit(gateOpen: false)
        let writer = BatchWriter(limits: BatchLimits(maxBatchSize: 10, queueCapacity: 100), commit: recorder.commit)
        let running = Task { try await writer.run() }
        let blocker = Task { try await writer.submit(0) }
        try await waitUntil { recorder.heldCommits == 1 }
        let doomed = [Task { try await writer.submit(-1) }, Task { try await writer.submit(5) }]
        try await waitUntil { writer.queuedCount == 2 }
        recorder.open()
        _ = try await blocker.value
        for task in doomed {
            await #expect(throws: RecordingCommit.CommitFailed.self) { try await task.value }
        }
        #expect(try await writer.submit(6) == "stored 6")
        writer.stop()
        try await running.value
    }
}
