/// ISO 8601 times in UTC with milliseconds, to and from integer milliseconds since the Unix epoch.
public enum Timestamp {
    private static let template = Array("0000-00-00T00:00:00.000Z".utf8)

    /// `2026-11-28T10:00:00.000Z`.
    public static func format(_ milliseconds: Int64) -> String {
        let (days, msOfDay) = milliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else {
            let time = format(msOfDay)  // a year of more or fewer than four digits: the slow way
            return "\(year)-\(pad(month, 2))-\(pad(day, 2))" + time.dropFirst(10)
        }
        // Written byte by byte: reports format two times per click.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            _ = buffer.initialize(from: template)
            func put(_ value: Int64, at offset: Int, width: Int) {
                var rest = value
                for position in (offset..<offset + width).reversed() {
                    buffer[position] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                    rest /= 10
                }
            }
            put(year, at: 0, width: 4)
            put(month, at: 5, width: 2)
            put(day, at: 8, width: 2)
            put(msOfDay / 3_600_000, at: 11, width: 2)
            put(msOfDay / 60_000 % 60, at: 14, width: 2)
            put(msOfDay / 1000 % 60, at: 17, width: 2)
            put(msOfDay % 1000, at: 20, width: 3)
            return 24
        }
    }

    /// Reads `2026-11-28` (midnight UTC), `2026-11-28T10:00:00Z`, with optional fractional seconds and a
    /// `Z` or `±hh:mm` offset. Nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }) else {
                return nil
            }
            return range.reduce(0) { $0 * 10 + Int64(bytes[$1] - 0x30) }
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var milliseconds = days(fromCivil: year, month, day) * 86_400_000
        if bytes.count == 10 { return milliseconds }
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            hour < 24, minute < 60, second < 60
        else { return nil }
        milliseconds += (hour * 3600 + minute * 60 + second) * 1000
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            let start = index + 1
            index = start
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > start, let fraction = number(start..<min(index, start + 3)) else { return nil }
            milliseconds += fraction * [100, 10, 1][min(index, start + 3) - start - 1]
        }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "Z"), index == bytes.count - 1 { return milliseconds }
        guard bytes.count == index + 6, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
            bytes[index + 3] == UInt8(ascii: ":"), let offsetHours = number(index + 1..<index + 3),
            let offsetMinutes = number(index + 4..<index + 6), offsetHours < 24, offsetMinutes < 60
        else { return nil }
        let offset = (offsetHours * 60 + offsetMinutes) * 60_000
        return bytes[index] == UInt8(ascii: "+") ? milliseconds - offset : milliseconds + offset
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days-from-civil.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, with a non-negative remainder.
    public func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
