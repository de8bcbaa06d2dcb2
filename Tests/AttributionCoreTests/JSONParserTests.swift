import AttributionCore
import Foundation
import Testing

@Suite struct JSONParserTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try JSONParser.parse(Array(#" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","i":-42,"z":0,"d":2.5,"e":1E3,"t":true,"f":false,"n":null,"a":[1,[],{}]} "#.utf8))
        #expect(value["s"] == .string("a\"b\\c/d\né😀"))
        #expect(value["i"] == .number("-42"))
        #expect(value["z"] == .number("0"))
        #expect(value["d"] == .number("2.5"))
        #expect(value["e"] == .number("1E3"))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["n"] == .null)
        #expect(value["a"] == .array([.number("1"), .array([]), .object([:])]))
    }

    @Test func anObjectOfStringsIsWrittenAsTheGeneralWriterWritesIt() {
        let objects: [[String: String]] = [
            [:], ["click_id": "c1"], ["fbclid": "IwAR1", "click_id": "z\"q\\\n\t\u{1}é😀", "": ""],
        ]
        for fields in objects {
            #expect(JSONValue.canonicalJSON(ofStrings: fields) == JSONValue.object(fields.mapValues(JSONValue.string)).canonicalJSON())
        }
    }

    @Test func aNumberOfAnySizeKeepsItsTextAndWritesBackAsValidJSON() throws {
        for text in ["18446744073709551616", "99999999999999999999", "9223372036854775807", "1e999", "-1e999", "1e-999"] {
            let value = try JSONParser.parse(Array(text.utf8))
            #expect(value == .number(text))
            #expect(value.scalarText == text)
            // What is written back reads again: a double's overflow to infinity would have written "inf".
            #expect(throws: Never.self) { try JSONParser.parse(Array(value.canonicalJSON().utf8)) }
        }
        // Spellings of one value that a 64-bit integer or a double holds write alike, as action keys need.
        #expect(JSONValue.number("1E3").canonicalJSON() == JSONValue.number("1000.0").canonicalJSON())
        #expect(JSONValue.number("-0").canonicalJSON() == "0")
        #expect(JSONValue.number("1e999").canonicalJSON() == "1e999")
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "1e", "\"abc", "\"a\u{01}b\"", "\"\\x\"", "\"\\ud800\"",
        "\"\\ud800\\u0041\"", "tru", "nul", "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "{}x", "\"\\u12\"",
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
        // Foundation agrees, except that it tolerates trailing commas, which RFC 8259 does not.
        if !text.contains(",]") && !text.contains(",}") {
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) == nil)
        }
    }

    @Test func refusesInvalidUTF8AndHostileNesting() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xff, 0xfe, 0x22]) }
        #expect(throws: JSONParser.Failure.self) {
            try JSONParser.parse(Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8))
        }
    }

    @Test func canonicalJSONSortsKeysEscapesAndRoundTrips() throws {
        let text = #"{"b":[1,2.5,"x\u0001y"],"a":{"d":null,"c":"q\"uote\\ é"},"é":true}"#
        let value = try JSONParser.parse(Array(text.utf8))
        let canonical = value.canonicalJSON()
        #expect(canonical == #"{"a":{"c":"q\"uote\\ é","d":null},"b":[1,2.5,"x\u0001y"],"é":true}"#)
        #expect(try JSONParser.parse(Array(canonical.utf8)) == value)
        // Foundation reads the canonical form as the same document.
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(canonical.utf8)) as? [String: Any])
        #expect((foundation["a"] as? [String: Any])?["c"] as? String == "q\"uote\\ é")
    }
}
