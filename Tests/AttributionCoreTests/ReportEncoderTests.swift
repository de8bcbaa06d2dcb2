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
}
