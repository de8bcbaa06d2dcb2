import DequeModule
import ServiceLifecycle
import Synchronization

/// How big a batch may grow, how long the writer lingers for one to fill, and how many items may wait.
public struct BatchLimits: Sendable, Equatable {
    public var maxBatchSize: Int
    public var maxWait: Duration
    public var queueCapacity: Int

    public init(maxBatchSize: Int = 512, maxWait: Duration = .zero, queueCapacity: Int = 10_000) {
        precondition(maxBatchSize > 0 && queueCapacity > 0)
        self.maxBatchSize = maxBatchSize
        self.maxWait = maxWait
        self.queueCapacity = queueCapacity
    }
}

/// Why a writer did not queue an item.
public enum WriterRefusal: Error, Equatable, CustomStringConvertible {
    case queueFull
    case stopped

    public var description: String {
        switch self {
        case .queueFull: "the write queue is full"
        case .stopped: "the writer has stopped"
        }
    }
}

/// A store handed back a different number of outcomes than the items it was given.
public struct OutcomeCountMismatch: Error {
    public init() {}
}

/// Group commit: many requests submit items, one task commits them in batches, and each request resumes
/// only once the transaction holding its item has committed. The queue is bounded: a full queue refuses.
public final class BatchWriter<Item: Sendable, Outcome: Sendable>: Service {
    public typealias Refusal = WriterRefusal

    /// Who waits for an item: a suspended task (unchecked continuations: each is resumed exactly once, by the
    /// writer or by the refusal in `submit`, and the checked kind costs an allocation on every visit), or a
    /// callback, for code on an event loop that must not suspend.
    private enum Waiter {
        case task(UnsafeContinuation<Outcome, any Error>)
        case callback(@Sendable (Result<Outcome, any Error>) -> Void)

        func finish(_ result: Result<Outcome, any Error>) {
            switch self {
            case .task(let continuation): continuation.resume(with: result)
            case .callback(let completion): completion(result)
            }
        }
    }

    private struct Pending {
        let item: Item
        let waiter: Waiter
    }

    private struct State {
        var queue = Deque<Pending>()
        var idleWriter: UnsafeContinuation<Void, Never>?
        var stopping = false
    }

    private let state = Mutex(State())
    public let limits: BatchLimits
    private let commit: @Sendable ([Item]) async throws -> [Outcome]

    /// `commit` stores a batch in one transaction and returns one outcome per item, in order.
    public init(limits: BatchLimits, commit: @escaping @Sendable ([Item]) async throws -> [Outcome]) {
        self.limits = limits
        self.commit = commit
    }

    /// Queues `item` and returns once its batch has committed; throws `Refusal` at once when it cannot be queued.
    public func submit(_ item: Item) async throws -> Outcome {
        try await withUnsafeThrowingContinuation { continuation in
            enqueue(Pending(item: item, waiter: .task(continuation)))
        }
    }

    /// Queues `item`; `completion` runs once its batch has committed (on the writer's task), or at once, on this
    /// thread, with the `Refusal` when it cannot be queued. For callers on an event loop.
    public func submit(_ item: Item, completion: @escaping @Sendable (Result<Outcome, any Error>) -> Void) {
        enqueue(Pending(item: item, waiter: .callback(completion)))
    }

    private func enqueue(_ pending: Pending) {
        let refusal: Refusal?
        let writer: UnsafeContinuation<Void, Never>?
        (refusal, writer) = state.withLock { state in
            if state.stopping { return (.stopped, nil) }
            if state.queue.count >= limits.queueCapacity { return (.queueFull, nil) }
            state.queue.append(pending)
            defer { state.idleWriter = nil }
            return (nil, state.idleWriter)
        }
        if let refusal { pending.waiter.finish(.failure(refusal)) }
        writer?.resume()
    }

    /// Items waiting for a commit.
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Writes until graceful shutdown or cancellation, then commits everything still queued and returns.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await writeUntilStopped()
        } onCancelOrGracefulShutdown: {
            self.stop()
        }
    }

    /// Refuses new items; the writer drains the queue and then `run` returns.
    public func stop() {
        let writer = state.withLock { state in
            state.stopping = true
            defer { state.idleWriter = nil }
            return state.idleWriter
        }
        writer?.resume()
    }

    private func writeUntilStopped() async {
        while await waitForWork() {
            if limits.maxWait > .zero, state.withLock({ !$0.stopping && $0.queue.count < limits.maxBatchSize }) {
                try? await Task.sleep(for: limits.maxWait)
            }
            let batch = state.withLock { state in
                let count = min(state.queue.count, limits.maxBatchSize)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            do {
                let outcomes = try await commit(batch.map(\.item))
                guard outcomes.count == batch.count else { throw OutcomeCountMismatch() }
                for (pending, outcome) in zip(batch, outcomes) {
                    pending.waiter.finish(.success(outcome))
                }
            } catch {
                for pending in batch {
                    pending.waiter.finish(.failure(error))
                }
            }
        }
    }

    /// Suspends until items are queued; false once stopping with nothing left to write.
    private func waitForWork() async -> Bool {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if !state.queue.isEmpty || state.stopping { return true }
                state.idleWriter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        return state.withLock { !$0.queue.isEmpty }
    }
}
