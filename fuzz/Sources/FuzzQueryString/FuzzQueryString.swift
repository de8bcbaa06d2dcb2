import AttributionCore
import FuzzDriver

let location = RedirectLocation(destination: "https://shop.example.com/summer?utm_source=whatsapp#top")

/// Any bytes as a visit's query: click ids come out valid or not at all, and the Location header stays a
/// configured destination with only URL-safe ASCII after it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQueryString(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let pairs = QueryString.parse(Substring(text))
    let found = ClickID.extract(from: pairs, parameters: ["click_id", "fbclid"])
    for id in found.all.values {
        guard case .success = ClickID.validate(id) else { fatalError("an invalid click id was kept: \(id.debugDescription)") }
    }
    for passthrough in [true, false] {
        let target = location.location(query: pairs, passthrough: passthrough)
        precondition(target.hasPrefix("https://shop.example.com/summer?utm_source=whatsapp"), "redirected elsewhere: \(target)")
        precondition(target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "unsafe byte in Location: \(target.debugDescription)")
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzQueryString($0, $1) } }
}
