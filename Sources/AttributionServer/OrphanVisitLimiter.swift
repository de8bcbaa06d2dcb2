import Synchronization

/// Bounds how many orphan visits (unknown paths) one address gets stored a minute, so that a scanner walking
/// thousands of paths cannot fill the disk. What is over the bound is answered as usual and only counted.
final class OrphanVisitLimiter: Sendable {
    private struct Window {
        var minute: Int64 = .min
        var counts: [String: Int] = [:]
    }

    /// Addresses remembered within one minute; past it the window starts over (a flood of addresses
    /// gets at most this many stored visits a minute more, while memory stays bounded).
    static let maximumAddresses = 100_000

    let perMinute: Int
    private let window = Mutex(Window())
    private let skipped = Atomic<Int>(0)

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Whether an orphan visit from `address` at `milliseconds` is stored.
    func allows(_ address: String?, at milliseconds: Int64) -> Bool {
        let minute = milliseconds / 60_000
        let allowed = window.withLock { window in
            if window.minute != minute || window.counts.count >= Self.maximumAddresses {
                window = Window(minute: minute)
            }
            let count = window.counts[address ?? "", default: 0]
            guard count < perMinute else { return false }
            window.counts[address ?? ""] = count + 1
            return true
        }
        if !allowed { skipped.add(1, ordering: .relaxed) }
        return allowed
    }

    /// Orphan visits answered but not stored since start-up.
    var skippedCount: Int { skipped.load(ordering: .relaxed) }
}
