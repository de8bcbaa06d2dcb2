/// One entry of a webhook's `user_actions` array: a link click, a landing page view, or any other type.
public struct UserAction: Sendable, Equatable {
    /// The action type Meta uses for a tap on a marketing message link.
    public static let linkClick = "marketing_messages_link_click"
    /// The action type for a page opened in WhatsApp's in-app browser.
    public static let landingPageView = "landing_page_view"

    /// Identifies the action across redeliveries: equal for the same action delivered twice.
    public var key: String
    public var actionType: String
    /// Milliseconds since the Unix epoch (the webhook carries whole seconds).
    public var occurredAt: Int64
    public var wabaID: String?
    public var phoneNumberID: String?
    public var displayPhoneNumber: String?
    public var clickID: String?
    public var trackingToken: String?
    public var clickComponent: String?
    public var productID: String?
    /// The action object as received, unknown fields included, in canonical JSON.
    public var rawJSON: String

    /// About how much memory the action takes: what a delivery being stored holds besides its body.
    public var approximateBytes: Int {
        // Strings of up to 15 UTF-8 bytes live inside the struct; longer ones in an allocation of their own.
        func heap(_ text: String?) -> Int {
            guard let count = text?.utf8.count, count > 15 else { return 0 }
            return count + 32
        }
        return MemoryLayout<UserAction>.stride + heap(key) + heap(actionType) + heap(wabaID) + heap(phoneNumberID)
            + heap(displayPhoneNumber) + heap(clickID) + heap(trackingToken) + heap(clickComponent)
            + heap(productID) + heap(rawJSON)
    }

    public init(
        key: String, actionType: String, occurredAt: Int64, wabaID: String? = nil, phoneNumberID: String? = nil,
        displayPhoneNumber: String? = nil, clickID: String? = nil, trackingToken: String? = nil,
        clickComponent: String? = nil, productID: String? = nil, rawJSON: String
    ) {
        self.key = key
        self.actionType = actionType
        self.occurredAt = occurredAt
        self.wabaID = wabaID
        self.phoneNumberID = phoneNumberID
        self.displayPhoneNumber = displayPhoneNumber
        self.clickID = clickID
        self.trackingToken = trackingToken
        self.clickComponent = clickComponent
        self.productID = productID
        self.rawJSON = rawJSON
    }
}
