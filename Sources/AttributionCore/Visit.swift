/// One request to the landing host, as stored: who came, from where, carrying which click id.
public struct Visit: Sendable, Equatable {
    /// Milliseconds since the Unix epoch.
    public var visitedAt: Int64
    public var method: String
    /// The requested path, bounded in length.
    public var path: String
    /// The configured route that served the visit; nil for an orphan (unknown slug).
    public var slug: String?
    /// The first valid click id among `tracking.click_id_params`, in their configured order.
    public var clickID: String?
    /// Every valid click id parameter present, by parameter name.
    public var clickParameters: [String: String]
    /// Set when a click id parameter was present but unusable.
    public var clickIDProblem: ClickID.Problem?
    public var visitorID: String?
    public var userAgent: String?
    public var referrer: String?
    /// Already truncated by `IPAnonymizer`.
    public var ip: String?
    /// Why the visit counts as a bot or preview fetch; nil for a human visit.
    public var botReason: String?

    public var isBot: Bool { botReason != nil }

    public init(
        visitedAt: Int64, method: String, path: String, slug: String?, clickID: String?,
        clickParameters: [String: String], clickIDProblem: ClickID.Problem?, visitorID: String?,
        userAgent: String?, referrer: String?, ip: String?, botReason: String?
    ) {
        self.visitedAt = visitedAt
        self.method = method
        self.path = path
        self.slug = slug
        self.clickID = clickID
        self.clickParameters = clickParameters
        self.clickIDProblem = clickIDProblem
        self.visitorID = visitorID
        self.userAgent = userAgent
        self.referrer = referrer
        self.ip = ip
        self.botReason = botReason
    }
}
