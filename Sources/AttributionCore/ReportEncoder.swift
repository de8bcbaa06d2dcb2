import Foundation

/// One value of a report row, typed so that each format can write it properly.
public enum ReportCell: Sendable, Equatable {
    case text(String?)
    case number(Int64?)
    /// Milliseconds since the epoch, written as ISO 8601 UTC with milliseconds.
    case time(Int64?)
    case bool(Bool)
    /// A ratio, written with up to four decimals.
    case ratio(Double?)
}

extension ReportCell {
    /// The value as a CSV report writes it, before any quoting: what a page shows and a test compares.
    public var plainText: String {
        switch self {
        case .text(let text): text ?? ""
        case .number(let number): number.map(String.init) ?? ""
        case .time(let time): time.map(Timestamp.format) ?? ""
        case .bool(let flag): flag ? "true" : "false"
        case .ratio(let ratio): ratio.map(ReportEncoder.ratioText) ?? ""
        }
    }
}

/// The output formats of every report.
public enum ReportFormat: String, Sendable, CaseIterable {
    case csv
    case json
    case ndjson

    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        case .ndjson: "application/x-ndjson; charset=utf-8"
        }
    }
}

/// Writes report rows one at a time, so a report of any size streams.
public struct ReportEncoder: Sendable {
    public let format: ReportFormat
    public let columns: [String]
    /// `"column":` for each column, written once rather than for every row.
    private let jsonKeys: [String]

    public init(format: ReportFormat, columns: [String]) {
        self.format = format
        self.columns = columns
        self.jsonKeys = columns.map { JSONValue.string($0).canonicalJSON() + ":" }
    }

    /// What comes before the first row.
    public func header() -> String {
        switch format {
        case .csv: columns.map { csvField($0, neutralise: false) }.joined(separator: ",") + "\r\n"
        case .json: "["
        case .ndjson: ""
        }
    }

    /// One row; `index` is its position, from 0.
    public func row(_ cells: [ReportCell], index: Int) -> String {
        switch format {
        case .csv:
            var line = ""
            for (position, cell) in cells.enumerated() {
                if position > 0 { line += "," }
                line += csvCell(cell)
            }
            return line + "\r\n"
        case .json:
            return (index == 0 ? "\n" : ",\n") + jsonObject(cells)
        case .ndjson:
            return jsonObject(cells) + "\n"
        }
    }

    /// What comes after the last row.
    public func footer(rowCount: Int) -> String {
        format == .json ? (rowCount == 0 ? "]\n" : "\n]\n") : ""
    }

    private func csvCell(_ cell: ReportCell) -> String {
        switch cell {
        case .text(let text): text.map { csvField($0, neutralise: true) } ?? ""
        case .number(let number): number.map(String.init) ?? ""
        case .time(let time): time.map(Timestamp.format) ?? ""
        case .bool(let flag): flag ? "true" : "false"
        case .ratio(let ratio): ratio.map(Self.ratioText) ?? ""
        }
    }

    /// RFC 4180 quoting; text a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading `'`.
    private func csvField(_ text: String, neutralise: Bool) -> String {
        var value = text
        if neutralise, let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            value = "'" + value
        }
        // Bytes, not characters: these are ASCII and never part of a longer UTF-8 sequence.
        let needsQuotes = value.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func jsonObject(_ cells: [ReportCell]) -> String {
        var out = "{"
        for (index, (key, cell)) in zip(jsonKeys, cells).enumerated() {
            if index > 0 { out += "," }
            out += key
            switch cell {
            case .text(let text): out += text.map { JSONValue.string($0).canonicalJSON() } ?? "null"
            case .number(let number): out += number.map(String.init) ?? "null"
            case .time(let time): out += time.map { "\"\(Timestamp.format($0))\"" } ?? "null"
            case .bool(let flag): out += flag ? "true" : "false"
            case .ratio(let ratio): out += ratio.map(Self.ratioText) ?? "null"
            }
        }
        return out + "}"
    }

    public static func ratioText(_ ratio: Double) -> String {
        let scaled = (ratio * 10_000).rounded() / 10_000
        return scaled == scaled.rounded() ? String(Int64(scaled)) : String(scaled)
    }
}
