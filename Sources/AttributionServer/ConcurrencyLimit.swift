import DequeModule
import Synchronization

/// At most `width` callers inside `run` at once; the others wait their turn in arrival order.
/// Parsing a large webhook body builds a tree several times its size, so only a few are parsed at a time.
final class ConcurrencyLimit: Sendable {
    private struct State {
        var running = 0
        var waiting: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let width: Int
    private let state = Mutex(State())

    init(width: Int) {
        self.width = width
    }

    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state in
                guard state.running < width else {
                    state.waiting.append(continuation)
                    return false
                }
                state.running += 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        // The slot passes straight to the next in line, if any.
        let next = state.withLock { state in
            guard let next = state.waiting.popFirst() else {
                state.running -= 1
                return nil as CheckedContinuation<Void, Never>?
            }
            return next
        }
        next?.resume()
    }
}
