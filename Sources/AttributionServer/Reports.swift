import AttributionCore
import AttributionStore

/// The reports, shared by the command line and the API: the same rows, the same bytes.
public enum Reports {
    static let pageSize = 2_000
    static let chunkBytes = 64 * 1024

    /// The range and format of a report, as typed by a user (`--from 2026-11-28`, `?format=json`).
    public struct Request: Sendable, Equatable {
        public var query: ReportQuery
        public var format: ReportFormat

        /// One clear sentence for a bad date or format.
        public init(from: String?, to: String?, format: String?, windowMilliseconds: Int64) throws(UsageError) {
            func time(_ text: String?, _ name: String) throws(UsageError) -> Int64? {
                guard let text, !text.isEmpty else { return nil }
                guard let value = Timestamp.parse(text) else {
                    throw UsageError("\(name) '\(text)' is not an ISO 8601 date such as 2026-11-28 or 2026-11-28T10:00:00Z")
                }
                return value
            }
            let start = try time(from, "from")
            let end = try time(to, "to")
            if let start, let end, end <= start {
                throw UsageError("to must be later than from (from is inclusive, to exclusive)")
            }
            guard let chosen = ReportFormat(rawValue: format ?? "csv") else {
                throw UsageError("format '\(format ?? "")' is not one of csv, json, ndjson")
            }
            self.query = ReportQuery(from: start, to: end, windowMilliseconds: windowMilliseconds)
            self.format = chosen
        }
    }

    /// `--group-by` / `group_by`: a comma list of day, product_id, click_component, slug, waba_id.
    public static func groupKeys(_ text: String?) throws(UsageError) -> [SummaryReport.Key] {
        switch SummaryReport.keys(text) {
        case .success(let keys): return keys
        case .failure(let error):
            let known = SummaryReport.Key.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("group-by key '\(error.name)' is not one of \(known)")
        }
    }

    /// `report summary`: every click of the range folded into its group, plus the orphan visits of the range.
    @discardableResult
    public static func summary(
        store: any Store, request: Request, groupBy: [SummaryReport.Key], write: (String) async throws -> Void
    ) async throws -> Int {
        let summary = try await store.summary(request.query, groupBy: groupBy)
        let encoder = ReportEncoder(format: request.format, columns: summary.columns)
        let rows = summary.rows
        var text = encoder.header()
        for (index, row) in rows.enumerated() { text += encoder.row(row, index: index) }
        try await write(text + encoder.footer(rowCount: rows.count))
        return rows.count
    }

    /// Streams `report clicks` page by page, handing `write` chunks of about 64 KiB; returns the row count.
    @discardableResult
    public static func clicks(
        store: any Store, request: Request, write: (String) async throws -> Void
    ) async throws -> Int {
        let encoder = ReportEncoder(format: request.format, columns: ClickReportRow.columns)
        var chunk = encoder.header()
        var count = 0
        try await forEachClick(store: store, query: request.query) { row in
            chunk += encoder.row(row.cells, index: count)
            count += 1
            if chunk.utf8.count >= chunkBytes {
                try await write(chunk)
                chunk = ""
            }
        }
        chunk += encoder.footer(rowCount: count)
        try await write(chunk)
        return count
    }

    /// Every click row of the range, in click time order, read a page at a time so memory stays flat.
    private static func forEachClick(
        store: any Store, query: ReportQuery, _ body: (ClickReportRow) async throws -> Void
    ) async throws {
        var cursor: ReportCursor?
        repeat {
            let page = try await store.clickReportPage(query, after: cursor, limit: pageSize)
            for row in page.rows { try await body(row) }
            cursor = page.next
        } while cursor != nil
    }
}
