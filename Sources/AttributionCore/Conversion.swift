import Foundation

/// A conversion the business reports back: an event, optionally with a value, tied to a click or a visitor.
public struct Conversion: Sendable, Equatable {
    /// Where a conversion came from.
    public enum Source: String, Sendable {
        case api
        case postback
    }

    public var event: String
    public var clickID: String?
    public var visitorID: String?
    /// Exact amount in millionths (see `Money`).
    public var valueMicros: Int64?
    public var currency: String?
    public var orderID: String?
    /// Milliseconds since the Unix epoch.
    public var occurredAt: Int64
    public var source: Source

    public init(
        event: String, clickID: String?, visitorID: String?, valueMicros: Int64?, currency: String?, orderID: String?,
        occurredAt: Int64, source: Source
    ) {
        self.event = event
        self.clickID = clickID
        self.visitorID = visitorID
        self.valueMicros = valueMicros
        self.currency = currency
        self.orderID = orderID
        self.occurredAt = occurredAt
        self.source = source
    }

    /// A field of the request was unusable; the text names the field and the fix.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// 9999-12-31T23:59:59Z.
    static let latestUnixSeconds: Int64 = 253_402_300_799

    static let knownFields: Set<String> = [
        "click_id", "visitor_id", "event", "value", "currency", "order_id", "occurred_at",
    ]

    /// Validates the fields of a conversion request (JSON body or postback query), all as text.
    /// `occurred_at` is ISO 8601 or Unix seconds and defaults to `now`.
    public static func validate(
        _ fields: [String: String], source: Source, now: Int64
    ) -> Result<Conversion, Invalid> {
        func fail(_ text: String) -> Result<Conversion, Invalid> { .failure(Invalid(description: text)) }
        if let unknown = fields.keys.sorted().first(where: { !knownFields.contains($0) }) {
            return fail("unknown field '\(unknown)' (known: \(knownFields.sorted().joined(separator: ", ")))")
        }
        func text(_ name: String, limit: Int) -> Result<String?, Invalid> {
            guard let value = fields[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                return .success(nil)
            }
            guard value.utf8.count <= limit,
                !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                return .failure(Invalid(description: "\(name) must be at most \(limit) bytes without control characters"))
            }
            return .success(value)
        }
        do {
            guard let event = try text("event", limit: 128).get() else {
                return fail("event is required (for example purchase or lead)")
            }
            let clickID = try text("click_id", limit: ClickID.maximumBytes).get()
            let visitorID = try text("visitor_id", limit: 64).get()
            guard clickID != nil || visitorID != nil else {
                return fail("a conversion needs click_id or visitor_id (the ca_vid cookie)")
            }
            let orderID = try text("order_id", limit: 256).get()
            var valueMicros: Int64?
            var currency: String?
            if let value = try text("value", limit: 32).get() {
                do {
                    valueMicros = try Money.parse(value)
                } catch {
                    return fail(error.description)
                }
                guard let code = try text("currency", limit: 8).get()?.uppercased(), Currency.isValid(code) else {
                    return fail("currency must be an ISO 4217 code such as EUR or USD when value is given")
                }
                currency = code
            } else if let code = try text("currency", limit: 8).get() {
                guard Currency.isValid(code.uppercased()) else {
                    return fail("currency '\(code)' is not an ISO 4217 code such as EUR or USD")
                }
                currency = code.uppercased()
            }
            var occurredAt = now
            if let when = try text("occurred_at", limit: 40).get() {
                if DecimalText.isDecimal(Substring(when)), !when.contains(where: { !$0.isASCII || !$0.isNumber }) {
                    // Whole Unix seconds up to the end of year 9999, so that no time arithmetic can overflow.
                    guard let seconds = Int64(when), seconds <= Self.latestUnixSeconds else {
                        return fail("occurred_at \(when) is not a time before the year 10000 in Unix seconds")
                    }
                    occurredAt = seconds * 1000
                } else if let parsed = Timestamp.parse(when) {
                    occurredAt = parsed
                } else {
                    return fail("occurred_at must be ISO 8601 (2026-11-28T10:00:00Z) or Unix seconds")
                }
            }
            return .success(
                Conversion(
                    event: event, clickID: clickID, visitorID: visitorID, valueMicros: valueMicros, currency: currency,
                    orderID: orderID, occurredAt: occurredAt, source: source))
        } catch {
            return .failure(error)
        }
    }
}
