import Foundation

/// The sample webhook bodies in Tests/Fixtures (copies of shared/fixtures/webhooks), as raw bytes.
enum Fixtures {
    static func body(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        var bytes = Array(try Data(contentsOf: url))
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes
    }
}
