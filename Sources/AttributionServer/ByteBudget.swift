import Synchronization

/// A shared allowance of bytes, taken as request bodies stream in and given back when they are done with:
/// however many clients send at once, the bodies held in memory never add up to more than `limit`.
final class ByteBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

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

    func giveBack(_ count: Int) {
        used.subtract(count, ordering: .relaxed)
    }

    var inUse: Int { used.load(ordering: .relaxed) }
}
