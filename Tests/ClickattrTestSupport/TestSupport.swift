import Foundation
import Testing

/// Polls `condition` every millisecond for up to 5 s; records an issue and throws when it never holds.
public func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<5_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("condition not met within 5 s", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// Scratch folders for tests, all under one folder per test process that is removed when the process exits.
public enum Scratch {
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("clickattr-tests-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// A new, empty folder named after `purpose`.
    public static func directory(_ purpose: String) throws -> URL {
        let directory = root.appendingPathComponent("\(purpose)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
