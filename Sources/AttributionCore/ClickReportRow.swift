/// One row of `report clicks`: a link click joined with its visits, landing page view and conversions.
public struct ClickReportRow: Sendable, Equatable {
    /// Whether and when the click was followed by a person's visit.
    public enum Status: String, Sendable {
        case visited
        case clickedOnly = "clicked_only"
        case outsideWindow = "outside_window"

        /// Clicked only without a person's visit; outside the window when that visit came later than the window.
        public init(clickedAt: Int64, firstVisitAt: Int64?, windowMilliseconds: Int64) {
            switch firstVisitAt {
            case nil: self = .clickedOnly
            case let first? where first - clickedAt > windowMilliseconds: self = .outsideWindow
            default: self = .visited
            }
        }
    }

    public static let columns = [
        "click_id", "clicked_at", "click_component", "product_id", "tracking_token", "waba_id", "phone_number_id",
        "first_visit_at", "visits", "bot_visits", "click_to_visit_ms", "landing_page_viewed", "conversions",
        "conversion_value", "status",
    ]

    public var clickID: String
    public var clickedAt: Int64
    public var clickComponent: String?
    public var productID: String?
    public var trackingToken: String?
    public var wabaID: String?
    public var phoneNumberID: String?
    public var firstVisitAt: Int64?
    public var visits: Int
    public var botVisits: Int
    public var landingPageViewed: Bool
    public var conversions: Int
    /// Sum of valued conversions per currency, in millionths, sorted by currency.
    public var conversionValues: [(currency: String?, micros: Money.Sum)]
    public var status: Status
    /// The route of the first human visit: the `slug` dimension of `report summary`, not a column here.
    public var slug: String?

    public init(
        clickID: String, clickedAt: Int64, clickComponent: String?, productID: String?, trackingToken: String?,
        wabaID: String?, phoneNumberID: String?, firstVisitAt: Int64?, visits: Int, botVisits: Int,
        landingPageViewed: Bool, conversions: Int, conversionValues: [(currency: String?, micros: Money.Sum)],
        windowMilliseconds: Int64, slug: String? = nil
    ) {
        self.slug = slug
        self.clickID = clickID
        self.clickedAt = clickedAt
        self.clickComponent = clickComponent
        self.productID = productID
        self.trackingToken = trackingToken
        self.wabaID = wabaID
        self.phoneNumberID = phoneNumberID
        self.firstVisitAt = firstVisitAt
        self.visits = visits
        self.botVisits = botVisits
        self.landingPageViewed = landingPageViewed
        self.conversions = conversions
        self.conversionValues = conversionValues
        self.status = Status(clickedAt: clickedAt, firstVisitAt: firstVisitAt, windowMilliseconds: windowMilliseconds)
    }

    /// The part of this row that `report summary` counts.
    public var summaryClick: SummaryReport.Click {
        SummaryReport.Click(
            clickedAt: clickedAt, clickComponent: clickComponent, productID: productID, wabaID: wabaID, slug: slug,
            firstVisitAt: firstVisitAt, botVisits: botVisits, conversions: conversions,
            conversionValues: conversionValues, status: status)
    }

    /// `first_visit_at − clicked_at`; negative within the webhook's 1 s resolution or clock skew, never clamped.
    public var clickToVisitMilliseconds: Int64? { firstVisitAt.map { $0 - clickedAt } }

    /// `24.99` for one currency; `10.00 EUR; 5.00 USD` for several.
    public var conversionValueText: String? { Money.describe(conversionValues) }

    public var cells: [ReportCell] {
        [
            .text(clickID), .time(clickedAt), .text(clickComponent), .text(productID), .text(trackingToken),
            .text(wabaID), .text(phoneNumberID), .time(firstVisitAt), .number(Int64(visits)),
            .number(Int64(botVisits)), .number(clickToVisitMilliseconds), .bool(landingPageViewed),
            .number(Int64(conversions)), .text(conversionValueText), .text(status.rawValue),
        ]
    }

    public static func == (lhs: ClickReportRow, rhs: ClickReportRow) -> Bool {
        lhs.cells == rhs.cells
    }
}
