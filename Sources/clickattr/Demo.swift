import AttributionServer
import ArgumentParser
import Foundation

/// `clickattr demo [--seed N]`
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill an empty database with two weeks of simulated traffic, to try the dashboard and reports.")

    @Option(help: "The same seed gives the same traffic (relative to today).")
    var seed: UInt64 = 1

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let totals = try await DemoData.run(config: config, seed: seed)
        let where_ = config.storage.driver == "sqlite" ? config.storage.sqlitePath : "PostgreSQL"
        print(
            """
            demo data in \(where_): \(totals.clicks) clicks in \(totals.deliveries) webhook deliveries \
            (\(totals.redeliveries) delivered twice), \(totals.visits) visits (\(totals.botVisits) previews and crawlers, \
            \(totals.orphanVisits) orphans), \(totals.landingPageViews) landing page views, \(totals.conversions) conversions \
            (\(totals.repeatedConversions) posted twice) over the last 14 days
            next: clickattr serve, then open http://\(config.http.host):\(config.http.port)/dashboard \
            \(config.api.keys.isEmpty ? "(set api.keys or CLICKATTR_API_KEYS first: the dashboard signs in with an API key)" : "and sign in with one of api.keys")
            """)
    }
}
