import AttributionCore

/// Durable storage of webhook deliveries, user actions and visits; one implementation per database.
public protocol Store: Sendable {
    /// Creates or upgrades the schema; safe to run on every start.
    func migrate() async throws
    /// Stores verified deliveries and their actions in one transaction, returning one outcome per delivery
    /// in order; a redelivered body or action is not stored again.
    func ingest(_ deliveries: [WebhookDelivery]) async throws -> [IngestOutcome]
    /// Stores visits in one transaction; returns once they are committed.
    func recordVisits(_ visits: [Visit]) async throws
    /// Stores a conversion once per (`event`, `order_id`). Without a click id, the visitor's last click id
    /// seen within `lookback` milliseconds before the conversion is attached.
    func recordConversion(_ conversion: Conversion, receivedAt: Int64, lookback: Int64) async throws
        -> ConversionOutcome
    /// One page of `report clicks`, in click time order, after `cursor`; `next` is nil on the last page.
    func clickReportPage(_ query: ReportQuery, after cursor: ReportCursor?, limit: Int) async throws
        -> (rows: [ClickReportRow], next: ReportCursor?)
    /// `report summary` once for each of `templates` (empty summaries: their keys, whether they keep latencies),
    /// from one pass over the range: every click of the range counted into its group, and the human visits of the
    /// range whose click id matches no click event (orphans) into the group of their day and route. With
    /// `partMilliseconds` (a divisor of a day), one set of summaries per part of the range that holds data, keyed by
    /// its number (time / `partMilliseconds`, rounded down); without, the one set under key 0.
    func summaries(_ query: ReportQuery, of templates: [SummaryReport], partMilliseconds: Int64?) async throws
        -> [Int64: [SummaryReport]]
    /// The newest clicks of the range first, as `report clicks` shows them.
    func latestClicks(_ query: ReportQuery, limit: Int) async throws -> [ClickReportRow]
    /// Where each table's ids stand and how many purges have run.
    func changeMarks() async throws -> ChangeMarks
    /// The hours (since the epoch) whose `summaries` may differ from when `marks` were read.
    func changedHours(since marks: ChangeMarks) async throws -> Set<Int64>
    /// Throws when the database cannot be reached or queried.
    func checkReachable() async throws
    /// How many rows each table holds.
    func counts() async throws -> StoreCounts
    /// The newest visits first.
    func recentVisits(limit: Int) async throws -> [Visit]
    /// The stored actions carrying `clickID`, oldest first.
    func userActions(clickID: String) async throws -> [UserAction]
    /// The raw body of a stored delivery, byte for byte as received.
    func deliveryBody(sha256: String) async throws -> [UInt8]?
    /// Deletes, in one short transaction, at most `limit` rows of each kind that are past `cutoff`: link clicks
    /// (with the visits, landing page views and conversions joined to them once no kept click shares their id),
    /// then by their own time the visits, other actions and conversions joined to no click, and deliveries that
    /// no kept action comes from. `Retention` calls it until nothing is left.
    func purgeBatch(before cutoff: Int64, limit: Int) async throws -> PurgeCounts
    /// Returns the space freed by deletions to the filesystem.
    func vacuum() async throws
}

extension Store {
    /// `report summary` grouped by `keys`.
    public func summary(_ query: ReportQuery, groupBy keys: [SummaryReport.Key]) async throws -> SummaryReport {
        try await summaries(query, of: [SummaryReport(keys: keys)], partMilliseconds: nil)[0]?[0] ?? SummaryReport(keys: keys)
    }
}

/// A point in the data's history: the newest id of each table and the number of purges that deleted rows.
public struct ChangeMarks: Sendable, Equatable {
    public var actions: Int64
    public var visits: Int64
    public var conversions: Int64
    public var purges: Int64

    public init(actions: Int64, visits: Int64, conversions: Int64, purges: Int64) {
        self.actions = actions
        self.visits = visits
        self.conversions = conversions
        self.purges = purges
    }
}

/// What a purge deleted.
public struct PurgeCounts: Sendable, Equatable {
    public var clicks = 0
    public var visits = 0
    public var otherActions = 0
    public var conversions = 0
    public var deliveries = 0

    public init() {}

    public var total: Int { clicks + visits + otherActions + conversions + deliveries }

    public static func + (lhs: PurgeCounts, rhs: PurgeCounts) -> PurgeCounts {
        var sum = lhs
        sum.clicks += rhs.clicks
        sum.visits += rhs.visits
        sum.otherActions += rhs.otherActions
        sum.conversions += rhs.conversions
        sum.deliveries += rhs.deliveries
        return sum
    }
}

/// A verified webhook body and the actions parsed out of it, stored together.
public struct WebhookDelivery: Sendable {
    /// Where a delivery came from: Meta over HTTP, or an operator's replay file.
    public enum Source: String, Sendable {
        case http
        case `import`
    }

    public var body: [UInt8]
    public var bodySHA256: String
    /// Milliseconds since the Unix epoch.
    public var receivedAt: Int64
    public var source: Source
    public var actions: [UserAction]

    public init(body: [UInt8], bodySHA256: String, receivedAt: Int64, source: Source, actions: [UserAction]) {
        self.body = body
        self.bodySHA256 = bodySHA256
        self.receivedAt = receivedAt
        self.source = source
        self.actions = actions
    }
}

/// What storing a delivery changed.
public struct IngestOutcome: Sendable, Equatable {
    /// False when the same body had been received before.
    public var newDelivery: Bool
    public var storedActions: Int
    public var duplicateActions: Int

    public init(newDelivery: Bool, storedActions: Int, duplicateActions: Int) {
        self.newDelivery = newDelivery
        self.storedActions = storedActions
        self.duplicateActions = duplicateActions
    }
}

/// Row counts, for readiness, metrics and tests.
public struct StoreCounts: Sendable, Equatable {
    public var deliveries: Int
    public var userActions: Int
    public var visits: Int
    public var conversions: Int

    public init(deliveries: Int, userActions: Int, visits: Int, conversions: Int = 0) {
        self.deliveries = deliveries
        self.userActions = userActions
        self.visits = visits
        self.conversions = conversions
    }
}

/// What storing a conversion did.
public struct ConversionOutcome: Sendable, Equatable {
    /// False when the same (`event`, `order_id`) was stored before; nothing changed then.
    public var created: Bool
    /// The click the conversion is attributed to, given or found through the visitor id.
    public var clickID: String?

    public init(created: Bool, clickID: String?) {
        self.created = created
        self.clickID = clickID
    }
}

/// The range and rules of a report: click time `from` inclusive, `to` exclusive.
public struct ReportQuery: Sendable, Equatable {
    public var from: Int64?
    public var to: Int64?
    public var windowMilliseconds: Int64

    public init(from: Int64?, to: Int64?, windowMilliseconds: Int64) {
        self.from = from
        self.to = to
        self.windowMilliseconds = windowMilliseconds
    }
}

/// Where the next page of a report starts: pages are read by key, so each is one short read.
public struct ReportCursor: Sendable, Equatable {
    public var clickedAt: Int64
    public var id: Int64
}

/// The database could not be opened or created; the description says why in a few words.
public struct StoreOpenError: Error, CustomStringConvertible {
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
