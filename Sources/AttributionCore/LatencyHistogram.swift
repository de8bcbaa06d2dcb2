import Foundation

/// Click-to-visit latencies in bounded memory: exact to the millisecond below one minute, then buckets
/// 1/256 wide on a log scale (under 0.4% error), so a summary over millions of clicks stays small.
public struct LatencyHistogram: Sendable, Equatable {
    private var counts: [Int: Int] = [:]
    public private(set) var count = 0

    public init() {}

    /// Distinct buckets held: what the histogram costs in memory.
    public var bucketCount: Int { counts.count }

    public mutating func add(_ milliseconds: Int64) {
        counts[Self.bucket(milliseconds), default: 0] += 1
        count += 1
    }

    /// Adds every latency counted in `other`.
    public mutating func merge(_ other: LatencyHistogram) {
        counts.merge(other.counts, uniquingKeysWith: +)
        count += other.count
    }

    /// How many latencies fall below `edges[0]` (index 0), in each `edges[i - 1]..<edges[i]` (index i), and at or
    /// above the last edge (the last index): `edges.count + 1` counts. Each latency is placed by its bucket's
    /// representative value, the one the percentiles give, so a chart and the percentiles agree.
    public func counts(splitAt edges: [Int64]) -> [Int] {
        var result = Array(repeating: 0, count: edges.count + 1)
        for (bucket, count) in counts {
            let value = Self.representative(bucket)
            var low = 0
            var high = edges.count
            while low < high {
                let middle = (low + high) / 2
                if edges[middle] <= value { low = middle + 1 } else { high = middle }
            }
            result[low] += count
        }
        return result
    }

    /// The value at `percentile` (0...100), nearest-rank; nil when empty.
    public func value(atPercentile percentile: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((percentile / 100 * Double(count)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket]!
            if seen >= rank { return Self.representative(bucket) }
        }
        return nil
    }

    static let exactLimit: Int64 = 60_000
    static let subBuckets = 256.0

    static func bucket(_ value: Int64) -> Int {
        let magnitude = value.magnitude
        let index: Int
        if magnitude < UInt64(exactLimit) {
            index = Int(magnitude)
        } else {
            index = Int(exactLimit) + Int((log2(Double(magnitude) / Double(exactLimit)) * subBuckets).rounded(.down))
        }
        return value < 0 ? -index - 1 : index
    }

    static func representative(_ bucket: Int) -> Int64 {
        let negative = bucket < 0
        let index = negative ? -bucket - 1 : bucket
        let magnitude: Int64
        if index < Int(exactLimit) {
            magnitude = Int64(index)
        } else {
            // The middle of the bucket, so the error is at most half its width either way.
            let low = Double(exactLimit) * exp2(Double(index - Int(exactLimit)) / subBuckets)
            let high = Double(exactLimit) * exp2(Double(index - Int(exactLimit) + 1) / subBuckets)
            magnitude = Int64(((low + high) / 2).rounded())
        }
        return negative ? -magnitude : magnitude
    }
}
