import Synchronization

/// A shared allowance of bytes, taken as request bodies stream in and given back when they are done with:
/// however many clients send at once, the bodies held in memory never add up to more than `limit`.
final class ByteBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)
    private let given = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `count` bytes if they fit; false (and nothing taken) when they do not.
    func take(_ count: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + count <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + count, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Takes `count` bytes, waiting up to `patience` for other bodies to be done with theirs. Meanwhile the
    /// request's body is not read, so a waiting client holds a connection but no memory.
    func take(_ count: Int, waitingUpTo patience: Duration) async -> Bool {
        let deadline = ContinuousClock.now + patience
        while !take(count) {
            guard count <= limit, ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Takes `count` bytes whether or not they fit: for what was underestimated, which must not wait for bytes
    /// that others, waiting too, hold.
    func overdraw(_ count: Int) {
        used.add(count, ordering: .relaxed)
    }

    /// Gives `count` bytes back; true when nothing is taken any more.
    @discardableResult
    func giveBack(_ count: Int) -> Bool {
        given.add(count, ordering: .relaxed)
        return used.subtract(count, ordering: .relaxed).newValue == 0
    }

    /// Bytes given back since `resetReturned`.
    var returned: Int { given.load(ordering: .relaxed) }

    func resetReturned() {
        given.store(0, ordering: .relaxed)
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}
