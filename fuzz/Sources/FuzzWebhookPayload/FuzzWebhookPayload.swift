import AttributionCore
import FuzzDriver

/// Any bytes as a webhook body: parsing never traps, and every action it keeps archives as JSON that reads back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhookPayload(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let payload = try? WebhookPayload.parse(bytes) else { return 0 }
    for action in payload.actions {
        guard (try? JSONParser.parse(Array(action.rawJSON.utf8))) != nil else {
            fatalError("archived action is not JSON: \(action.rawJSON)")
        }
        precondition(action.occurredAt > 0, "a stored time is not positive")
        if let clickID = action.clickID, case .failure = ClickID.validate(clickID) {
            fatalError("an unusable click id was kept: \(clickID.debugDescription)")
        }
    }
    for rejected in payload.rejected where (try? JSONParser.parse(Array(rejected.rawJSON.utf8))) == nil {
        fatalError("a rejected action's JSON does not read back: \(rejected.rawJSON)")
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzWebhookPayload($0, $1) } }
}
