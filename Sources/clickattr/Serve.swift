import AttributionServer
import ArgumentParser
import Logging

/// `clickattr serve`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let app = try await buildApplication(config: config, logger: Logger(label: "clickattr"))
        try await app.runService()
    }
}
