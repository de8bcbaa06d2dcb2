/// A configuration problem, told in one line that names the key and the fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    static func invalid(_ key: String, _ problem: String) -> ConfigError {
        ConfigError("config key '\(key)' \(problem)")
    }
}
