import AttributionCore
import FuzzDriver

/// The first byte picks the prefixes, the rest is an address: truncation never traps, and what it keeps reads
/// back as an address that truncates to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIPAnonymizer(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let first = bytes.first else { return 0 }
    let anonymizer = IPAnonymizer(ipv4Prefix: Int(first % 33), ipv6Prefix: Int(first) % 129)
    let address = String(decoding: bytes.dropFirst(), as: UTF8.self)
    if let kept = anonymizer.anonymize(address) {
        precondition(anonymizer.anonymize(kept) == kept, "\(address.debugDescription) -> \(kept) is not stable")
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzIPAnonymizer($0, $1) } }
}
