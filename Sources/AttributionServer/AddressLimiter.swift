import Synchronization

/// Bounds how many times an address may do something a minute: get an orphan visit (an unknown path) stored, so
/// that a scanner walking thousands of paths cannot fill the disk; try a wrong key on the dashboard's login.
final class AddressLimiter: Sendable {
    private struct Window {
        var minute: Int64 = .min
        var counts: [String: Int] = [:]
    }

    /// Addresses remembered within one minute; past it the window starts over (a flood of addresses
    /// gets at most this many stored visits a minute more, while memory stays bounded).
    static let maximumAddresses = 100_000

    let perMinute: Int
    private let window = Mutex(Window())

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Whether `address` has used up this minute's allowance, without using any of it.
    func isExhausted(_ address: String?, at milliseconds: Int64) -> Bool {
        window.withLock { window in
            window.minute == milliseconds / 60_000 && window.counts[address ?? "", default: 0] >= perMinute
        }
    }

    /// Whether `address` may act once more at `milliseconds`; counts the act when it may.
    func allows(_ address: String?, at milliseconds: Int64) -> Bool {
        let minute = milliseconds / 60_000
        return window.withLock { window in
            if window.minute != minute || window.counts.count >= Self.maximumAddresses {
                window = Window(minute: minute)
            }
            let count = window.counts[address ?? "", default: 0]
            guard count < perMinute else { return false }
            window.counts[address ?? ""] = count + 1
            return true
        }
    }
}
