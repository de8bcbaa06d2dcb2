import AttributionServer
import ArgumentParser
import Foundation
import Logging

/// The `clickattr` command: parsing only; the work lives in AttributionServer.
@main
struct Clickattr: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Click attribution for WhatsApp marketing messages.",
        subcommands: [Serve.self, Migrate.self, Import.self, Report.self, Purge.self, Demo.self])

    /// Bad usage and bad configuration exit with 2 and one line on stderr; other failures with 1.
    static func main() async {
        LoggingSystem.bootstrap { StandardErrorLogHandler(label: $0) }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
            FileHandle.standardError.write(Data((message(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigError {
            fail(error.description, code: 2)
        } catch let error as UsageError {
            fail(error.description, code: 2)
        } catch {
            // The bare `clickattr` asks for help by throwing; that is a clean exit.
            if exitCode(for: error) == .success { exit(withError: error) }
            fail("\(error)", code: 1)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("clickattr: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

/// The `--config FILE` option every command takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The YAML configuration file.")
    var config: String = ConfigLoader.defaultPath

    func load() throws -> ClickattrConfig {
        try ConfigLoader.load(path: config)
    }
}
