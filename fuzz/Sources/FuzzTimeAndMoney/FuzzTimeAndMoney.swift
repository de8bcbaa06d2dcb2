import AttributionCore
import FuzzDriver

/// Any text as a report date, an amount, and a conversion's fields: nothing traps, an accepted amount fits the
/// bound that keeps sums exact, and an accepted time formats and reads back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimeAndMoney(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let time = Timestamp.parse(text) {
        let formatted = Timestamp.format(time)
        if formatted.utf8.count == 24 { precondition(Timestamp.parse(formatted) == time, "\(text) -> \(formatted)") }
    }
    if let micros = try? Money.parse(text) {
        precondition(micros >= 0 && micros < 1_000_000_000_000_000_000, "\(text) -> \(micros)")
        precondition((try? Money.parse(Money.format(Money.Sum(micros)))) == micros, "\(text) does not format back")
    }
    _ = DecimalText.isDecimal(Substring(text))
    let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    let names = ["click_id", "event", "value", "currency", "order_id", "occurred_at", "visitor_id"]
    var fields: [String: String] = [:]
    for (name, value) in zip(names, parts) { fields[name] = value }
    if case .success(let conversion) = Conversion.validate(fields, source: .api, now: 1_764_331_200_000) {
        _ = Timestamp.format(conversion.occurredAt)
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzTimeAndMoney($0, $1) } }
}
