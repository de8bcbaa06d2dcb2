import Foundation

/// Exact decimal amounts, kept as integer millionths so that sums never drift (`24.99`, never `24.990000001`).
public enum Money {
    public static let scale: Int64 = 1_000_000
    static let fractionDigits = 6
    /// An accepted amount is below 10^12 (a trillion, in any currency): at most 10^18 millionths, so that a sum
    /// of amounts, kept in 128 bits, could only overflow past 10^20 of them.
    public static let maximumWholeDigits = 12

    /// A sum of millionths. 128 bits: sums are made at report time over any number of stored amounts.
    public typealias Sum = Int128

    /// Why an amount was refused.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notANumber(String)
        case negative
        case tooPrecise
        case tooLarge

        public var description: String {
            switch self {
            case .notANumber(let text): "value '\(text)' is not a decimal number such as 24.99"
            case .negative: "value must not be negative"
            case .tooPrecise: "value has more than 6 decimal places"
            case .tooLarge: "value must be below 1000000000000"
            }
        }
    }

    /// Parses a plain decimal (`24.99`, `25`, `0.5`) into millionths.
    public static func parse(_ text: String) throws(Problem) -> Int64 {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.hasPrefix("-") { throw .negative }
        if digits.hasPrefix("+") { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
            parts.count == 1 || !fraction.isEmpty
        else { throw .notANumber(text) }
        guard fraction.count <= fractionDigits else { throw .tooPrecise }
        guard whole.drop(while: { $0 == "0" }).count <= maximumWholeDigits else { throw .tooLarge }
        guard let units = Int64(whole.isEmpty ? "0" : String(whole)),
            let scaledUnits = Optional(units.multipliedReportingOverflow(by: scale)), !scaledUnits.overflow,
            let fractional = Int64(fraction.padding(toLength: fractionDigits, withPad: "0", startingAt: 0))
        else { throw .tooLarge }
        let (total, overflow) = scaledUnits.partialValue.addingReportingOverflow(fractional)
        guard !overflow else { throw .tooLarge }
        return total
    }

    /// Millionths as a decimal with at least two places: `24990000` → `24.99`, `15000000` → `15.00`.
    public static func format(_ micros: Sum) -> String {
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let units = magnitude / UInt128(scale)
        var fraction = String(magnitude % UInt128(scale))
        fraction = String(repeating: "0", count: fractionDigits - fraction.count) + fraction
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(sign)\(units).\(fraction)"
    }
}

extension Money {
    /// Per-currency sums as a report shows them: `24.99` for one currency, `10.00 EUR; 5.00 USD` for several.
    public static func describe(_ sums: [(currency: String?, micros: Sum)]) -> String? {
        switch sums.count {
        case 0: nil
        case 1: format(sums[0].micros)
        default: sums.map { "\(format($0.micros)) \($0.currency ?? "")" }.joined(separator: "; ")
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
