import AttributionCore

/// A click's conversions as the report queries hand them over (`CUR micros;CUR micros`, parts may be empty):
/// how many, and the sum of the valued ones per currency, sorted by currency.
struct ConversionTally {
    var count = 0
    var values: [(currency: String?, micros: Money.Sum)] = []

    init(_ text: String?) {
        guard let text, !text.isEmpty else { return }
        var sums: [String: Money.Sum] = [:]
        for item in text.split(separator: ";", omittingEmptySubsequences: false) {
            count += 1
            let parts = item.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let micros = Int64(parts[1]) else { continue }
            sums[String(parts[0]), default: 0] += Money.Sum(micros)
        }
        values = sums.sorted { $0.key < $1.key }.map { (currency: $0.key.isEmpty ? nil : $0.key, micros: $0.value) }
    }
}
