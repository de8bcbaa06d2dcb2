import AttributionCore
import Foundation
import Testing

@Suite struct ReportEncoderTests {
    static let row = ClickReportRow(
        clickID: "=HYPERLINK(\"http://evil\")", clickedAt: 1_764_331_200_000, clickComponent: "cta", productID: "sku, \"big\"",
        trackingToken: "line\nbreak", wabaID: "@waba", phoneNumberID: nil, firstVisitAt: 1_764_331_199_600, visits: 1,
        botVisits: 0, landingPageViewed: true, conversions: 2, conversionValues: [("EUR", 24_990_000)],
        windowMilliseconds: 7 * 86_400_000)

    static func encode(_ format: ReportFormat, _ rows: [ClickReportRow]) -> String {
        let encoder = ReportEncoder(format: format, columns: ClickReportRow.columns)
        var text = encoder.header()
        for (index, row) in rows.enumerated() { text += encoder.row(row.cells, index: index) }
        return text + encoder.footer(rowCount: rows.count)
    }

    @Test func csvIsRFC4180AndNeutralisesFormulas() {
        let csv = Self.encode(.csv, [Self.row])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == ClickReportRow.columns.joined(separator: ","))
        #expect(lines.count == 3 && lines[2].isEmpty)
        #expect(
            lines[1]
                == #""'=HYPERLINK(""http://evil"")",2025-11-28T12:00:00.000Z,cta,"sku, ""big""","line"#
                + "\n" + #"break",'@waba,,2025-11-28T11:59:59.600Z,1,0,-400,true,2,24.99,visited"#)
        // A negative latency is a number, not a formula: it is not prefixed.
        #expect(!csv.contains("'-400"))
    }

    @Test func jsonAndNDJSONCarryTypedValues() throws {
        let json = Self.encode(.json, [Self.row, Self.row])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        let first = array[0]
        #expect(first["click_id"] as? String == "=HYPERLINK(\"http://evil\")")
        #expect(first["click_to_visit_ms"] as? Int == -400)
        #expect(first["visits"] as? Int == 1)
        #expect(first["landing_page_viewed"] as? Bool == true)
        #expect(first["conversion_value"] as? String == "24.99")
        #expect(first["phone_number_id"] is NSNull)
        #expect(Array(first.keys).sorted() == ClickReportRow.columns.sorted())

        let lines = Self.encode(.ndjson, [Self.row, Self.row]).split(separator: "\n")
        #expect(lines.count == 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(object["clicked_at"] as? String == "2025-11-28T12:00:00.000Z")
        #expect(object["status"] as? String == "visited")
    }

    @Test func anEmptyReportIsStillValid() throws {
        #expect(Self.encode(.csv, []) == ClickReportRow.columns.joined(separator: ",") + "\r\n")
        #expect((try JSONSerialization.jsonObject(with: Data(Self.encode(.json, []).utf8)) as? [Any])?.isEmpty == true)
        #expect(Self.encode(.ndjson, []).isEmpty)
    }

    /// Reads RFC 4180 back: quoted fields with doubled quotes, commas and line breaks inside, CRLF between records.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let scalar = characters.popFirst() {
            switch (quoted, scalar) {
            case (true, "\""):
                if characters.first == "\"" { field.unicodeScalars.append(characters.removeFirst()) } else { quoted = false }
            case (true, _): field.unicodeScalars.append(scalar)
            case (false, "\""): quoted = true
            case (false, ","): record.append(field); field = ""
            case (false, "\r") where characters.first == "\n":
                characters.removeFirst()
                record.append(field)
                records.append(record)
                (record, field) = ([], "")
            default: field.unicodeScalars.append(scalar)
            }
        }
        return records
    }

    @Test func everyFormatCarriesTheSameValues() throws {
        var rows: [ClickReportRow] = []
        for (index, text) in ["plain", "caf\u{E9} \u{1F600}", "a,b", "say \"hi\"", "two\r\nlines", "=1+2", "+3", "-4", "@x", "\tt", ""]
            .enumerated()
        {
            rows.append(
                ClickReportRow(
                    clickID: "id-\(index)", clickedAt: 1_764_331_200_000 + Int64(index), clickComponent: text,
                    productID: index % 2 == 0 ? nil : text, trackingToken: text, wabaID: "w", phoneNumberID: nil,
                    firstVisitAt: index % 3 == 0 ? nil : 1_764_331_200_500, visits: index, botVisits: 1,
                    landingPageViewed: index % 2 == 0, conversions: index,
                    conversionValues: index % 4 == 0 ? [] : [("EUR", Money.Sum(index) * 1_250_000)],
                    windowMilliseconds: 86_400_000))
        }
        let csv = Self.parseCSV(Self.encode(.csv, rows))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.encode(.json, rows).utf8)) as? [[String: Any]])
        let ndjson = try Self.encode(.ndjson, rows).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(csv.count == rows.count + 1 && json.count == rows.count && ndjson.count == rows.count)
        #expect(csv[0] == ClickReportRow.columns)
        for (index, row) in rows.enumerated() {
            for (column, cell) in zip(ClickReportRow.columns, row.cells) {
                let csvText = csv[index + 1][ClickReportRow.columns.firstIndex(of: column)!]
                let expected: Any?
                switch cell {
                case .text(let text):
                    expected = text
                    // Only the neutralising apostrophe may differ, and only before a formula character.
                    let unneutralised = csvText.hasPrefix("'") ? String(csvText.dropFirst()) : csvText
                    #expect(unneutralised == (text ?? ""), "\(column) of row \(index)")
                    let formula = text?.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } ?? false
                    #expect(csvText.hasPrefix("'") == formula, "\(column) of row \(index)")
                case .number(let number): expected = number; #expect(csvText == (number.map(String.init) ?? ""))
                case .time(let time): expected = time.map(Timestamp.format); #expect(csvText == ((expected as? String) ?? ""))
                case .bool(let flag): expected = flag; #expect(csvText == String(flag))
                case .ratio: Issue.record("click rows have no ratio"); continue
                }
                for object in [json[index], ndjson[index]] {
                    let value = object[column]
                    switch expected {
                    case nil: #expect(value is NSNull, "\(column) of row \(index)")
                    case let text as String: #expect(value as? String == text, "\(column) of row \(index)")
                    case let number as Int64: #expect((value as? NSNumber)?.int64Value == number)
                    case let flag as Bool: #expect(value as? Bool == flag)
                    default: Issue.record("unexpected value \(String(describing: expected))")
                    }
                }
            }
        }
    }
}
