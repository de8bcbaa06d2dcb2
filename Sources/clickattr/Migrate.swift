import AttributionServer
import ArgumentParser

/// `clickattr migrate`
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        try await prepare(try makeStore(config: config), config: config)
        print("database schema is up to date (\(config.storage.driver))")
    }
}
