import AttributionServer
import FuzzDriver

/// Any text as the configuration file: it is decoded and validated, or refused with a ConfigError; never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let config = try? ConfigLoader.decode(text, source: "fuzz.yaml") {
        _ = try? ConfigLoader.validate(config)
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer { fuzzConfig($0, $1) } }
}
