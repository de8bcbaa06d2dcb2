import AttributionCore
import Foundation
import Logging

/// swift-log's `StreamLogHandler` on standard error, in the same line format, less its habit of formatting all
/// metadata again whenever one key is set: Hummingbird sets a request id on every request's logger, and the
/// landing path then logs nothing, so the formatting waits until a line is written.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// `write` receives each line; standard error unless a test listens.
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error { fields["error.message"] = "\(error)" }
        let metadataText = fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        write("\(Timestamp.format(Clock.milliseconds())) \(event.level) \(label):\(metadataText) [\(event.source)] \(event.message)\n")
    }
}
