import AttributionServer
import ArgumentParser

/// `clickattr purge --older-than DAYS [--vacuum]`
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete data past retention: clicks with everything joined to them, orphans by their own time.")

    @Option(name: .customLong("older-than"), help: "Delete what is older than this many days (more than attribution.window_days).")
    var olderThan: Int

    @Flag(help: "Afterwards, return the freed space to the filesystem (rewrites the database file).")
    var vacuum = false

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        for line in try await PurgeCommand.run(config: config, days: olderThan, vacuum: vacuum) {
            print(line)
        }
    }
}
