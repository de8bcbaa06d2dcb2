/// A mistake in how a command was called (a file that cannot be read, a bad line): exit code 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
