import Foundation

/// Wall-clock time as the store keeps it.
public enum Clock {
    /// Milliseconds since the Unix epoch.
    @Sendable public static func milliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
