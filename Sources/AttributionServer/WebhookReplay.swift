import AttributionCore
import AttributionStore
import Foundation
import Logging

/// `clickattr import webhooks FILE`: raw bodies, one a line, through the same ingest path as the endpoint.
public enum WebhookReplay {
    /// What a replay did, line by line.
    public struct Summary: Sendable, CustomStringConvertible {
        public var lines = 0
        public var newDeliveries = 0
        public var storedActions = 0
        public var duplicateActions = 0
        public var rejectedActions = 0
        /// Lines that were not imported, with the reason, by line number (1-based).
        public var badLines: [(line: Int, reason: String)] = []

        public var description: String {
            var text = "\(lines) line(s): \(newDeliveries) new deliveries, \(storedActions) new action(s), "
                + "\(duplicateActions) already stored, \(rejectedActions) without action_type or timestamp"
            for bad in badLines {
                text += "\nline \(bad.line): \(bad.reason)"
            }
            return text
        }
    }

    public static func importFile(at path: String, config: ClickattrConfig, logger: Logger) async throws -> Summary {
        let handle: FileHandle
        do {
            handle = try SystemFile.reading(path)
        } catch {
            throw UsageError("cannot read '\(path)': \(error)")
        }
        defer { try? handle.close() }
        let store = try makeStore(config: config)
        try await store.migrate()
        let ingestor = WebhookIngestor(store: store, logger: logger)

        var summary = Summary()
        var lines = LineReader(handle: handle)
        while let line = try lines.next() {
            summary.lines += 1
            guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { continue }
            do {
                let result = try await ingestor.ingest(body: line, source: .import)
                summary.newDeliveries += result.outcome.newDelivery ? 1 : 0
                summary.storedActions += result.outcome.storedActions
                summary.duplicateActions += result.outcome.duplicateActions
                summary.rejectedActions += result.rejectedActions
            } catch let error as WebhookPayload.ParseError {
                summary.badLines.append((summary.lines, error.description))
            }
        }
        return summary
    }
}

/// Reads a file line by line as raw bytes, so each body is stored exactly as written.
struct LineReader {
    let handle: FileHandle
    private var buffer: [UInt8] = []
    private var atEnd = false

    init(handle: FileHandle) {
        self.handle = handle
    }

    /// The next line without its `\n` (or `\r\n`); nil at the end of the file.
    mutating func next() throws -> [UInt8]? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return line
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = [] }
                return buffer
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
        }
    }
}
