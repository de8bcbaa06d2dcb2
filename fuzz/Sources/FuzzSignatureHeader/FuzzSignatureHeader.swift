import AttributionCore
import FuzzDriver

/// The first line is the X-Hub-Signature-256 header, the rest the body: checking never traps, and a header
/// made for the body with the right secret always verifies.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignatureHeader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let split = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let header = String(decoding: bytes[..<split], as: UTF8.self)
    let body = Array(bytes[min(split + 1, bytes.count)...])
    let signature = WebhookSignature(appSecret: "fuzz-secret")
    _ = try? signature.verify(body: body, header: header)
    do {
        try signature.verify(body: body, header: WebhookSignature.header(for: body, appSecret: "fuzz-secret"))
    } catch {
        fatalError("a correct signature was refused: \(error)")
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzSignatureHeader($0, $1) } }
}
