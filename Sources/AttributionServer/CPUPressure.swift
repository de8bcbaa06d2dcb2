import Foundation
import Synchronization

/// Whether this machine's cores are saturated, from `/proc/stat`: the share of their time spent working (user,
/// nice, system, interrupts, steal; not idle or waiting for the disk) since the last look, looked at again when the
/// last look is older than `interval`. Where `/proc/stat` cannot be read it always answers no.
///
/// Saturated starts at 70%: under a landing flood on two cores they are 76–90% busy (the rest of their time the
/// visitors wait for syncs, not for a core), and at 85% the shipper gave way only half of the time.
final class CPUPressure: Sendable {
    /// Busy at or above this share of all cores' time counts as saturated.
    let threshold: Double
    let interval: Duration
    private let last = Mutex<(at: ContinuousClock.Instant, busy: UInt64, total: UInt64, saturated: Bool)?>(nil)

    init(threshold: Double = 0.7, interval: Duration = .milliseconds(100)) {
        self.threshold = threshold
        self.interval = interval
    }

    var saturated: Bool {
        last.withLock { last in
            let now = ContinuousClock.now
            if let seen = last, now - seen.at < interval { return seen.saturated }
            guard let (busy, total) = Self.read() else { return false }
            var saturated = false
            if let seen = last, total > seen.total {
                saturated = Double(busy &- seen.busy) / Double(total - seen.total) >= threshold
            }
            last = (now, busy, total, saturated)
            return saturated
        }
    }

    /// The cores' busy and total time so far, in clock ticks: the first line of `/proc/stat`.
    static func read() -> (busy: UInt64, total: UInt64)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n", maxSplits: 1).first, line.hasPrefix("cpu ")
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal
        let total = fields.prefix(8).reduce(0, +)
        return (total - fields[3] - fields[4], total)
    }
}
