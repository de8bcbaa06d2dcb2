import AttributionServer
import ArgumentParser
import Logging

/// `clickattr serve`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await serve(config: try options.load(), logger: Logger(label: "clickattr"))
    }
}
