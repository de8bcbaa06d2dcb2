import AttributionCore
import Testing

@Suite struct MoneyTests {
    @Test func parsesExactDecimalsIntoMillionths() throws {
        #expect(try Money.parse("24.99") == 24_990_000)
        #expect(try Money.parse("25") == 25_000_000)
        #expect(try Money.parse("0.000001") == 1)
        #expect(try Money.parse(".5") == 500_000)
        #expect(try Money.parse("+3.10") == 3_100_000)
    }

    @Test func refusesWhatIsNotAnAmount() {
        #expect(throws: Money.Problem.negative) { try Money.parse("-1") }
        #expect(throws: Money.Problem.tooPrecise) { try Money.parse("1.0000001") }
        #expect(throws: Money.Problem.tooLarge) { try Money.parse("99999999999999999") }
        for text in ["", "abc", "1.2.3", "1e3", "1.", "0x10", "1,5", " "] {
            #expect(throws: Money.Problem.self) { try Money.parse(text) }
        }
    }

    @Test func sumsStayExactAndFormatWithTwoPlaces() throws {
        let total = try (0..<10).reduce(Money.Sum(0)) { sum, _ in sum + Money.Sum(try Money.parse("0.1")) }
        #expect(Money.format(total) == "1.00")
        #expect(Money.format(24_990_000) == "24.99")
        #expect(Money.format(15_000_000) == "15.00")
        #expect(Money.format(1_005_000) == "1.005")
        #expect(Money.format(0) == "0.00")
        // Far past 64 bits: a sum of many of the largest amounts.
        let largest = try Money.parse("999999999999.999999")
        #expect(Money.format(Money.Sum(largest) * 1_000_000) == "999999999999999999.00")
    }

    @Test func anAmountIsBelowATrillionSoSumsOfThemFit() throws {
        #expect(try Money.parse("999999999999.999999") == 999_999_999_999_999_999)
        #expect(try Money.parse("000999999999999") == 999_999_999_999_000_000)
        for text in ["1000000000000", "9000000000000", "99999999999999999999", "1" + String(repeating: "0", count: 40)] {
            #expect(throws: Money.Problem.tooLarge) { try Money.parse(text) }
        }
        for text in ["1e30", "0x10", "inf", "nan", "1e-999", "1,5"] {
            #expect(throws: Money.Problem.notANumber(text)) { try Money.parse(text) }
        }
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.format(1_764_331_200_000) == "2025-11-28T12:00:00.000Z")
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(951_782_400_123) == "2000-02-29T00:00:00.123Z")
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(253_402_300_800_000) == "10000-01-01T00:00:00.000Z")  // five digits: the slow way
    }

    @Test func parsesDatesAndTimes() {
        #expect(Timestamp.parse("2026-11-28") == 1_795_824_000_000)
        #expect(Timestamp.parse("2026-11-28T10:00:00Z") == 1_795_860_000_000)
        #expect(Timestamp.parse("2026-11-28T10:00:00.250Z") == 1_795_860_000_250)
        #expect(Timestamp.parse("2026-11-28T12:00:00+02:00") == 1_795_860_000_000)
        #expect(Timestamp.parse("2026-11-28T05:30:00-04:30") == 1_795_860_000_000)
        for text in ["", "2026-13-01", "2026-02-30", "2026-11-28T25:00:00Z", "2026-11-28T10:00:00", "28/11/2026", "2026-11-28Z"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test func roundTrips() {
        for ms: Int64 in [0, 1_764_331_200_123, 4_102_444_799_999, 951_782_400_000] {
            #expect(Timestamp.parse(Timestamp.format(ms)) == ms)
        }
    }
}

@Suite struct ConversionValidationTests {
    @Test func acceptsAFullConversion() throws {
        let conversion = try Conversion.validate(
            ["click_id": "c", "event": "purchase", "value": "24.99", "currency": "eur", "order_id": "o1",
             "occurred_at": "2026-11-28T10:00:00Z"],
            source: .api, now: 5
        ).get()
        #expect(conversion.valueMicros == 24_990_000)
        #expect(conversion.currency == "EUR")
        #expect(conversion.occurredAt == 1_795_860_000_000)
        #expect(conversion.source == .api)
    }

    @Test func occurredAtDefaultsToNowAndAcceptsUnixSeconds() throws {
        #expect(try Conversion.validate(["visitor_id": "v", "event": "lead"], source: .postback, now: 42).get().occurredAt == 42)
        #expect(
            try Conversion.validate(["visitor_id": "v", "event": "lead", "occurred_at": "1764331200"], source: .api, now: 0)
                .get().occurredAt == 1_764_331_200_000)
    }
}
