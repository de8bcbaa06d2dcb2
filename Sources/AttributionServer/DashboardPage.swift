import AttributionCore
import AttributionStore
import Foundation

/// What the dashboard shows of a range of UTC click days, laid out for `templates/dashboard.mustache`. Every
/// figure is read from the rows `report summary` writes (the same cells, the same rounding) and carries them
/// in a `data-value` attribute, so a test or a script can compare the page with the report.
struct DashboardPage {
    /// The first and last UTC click day shown, inclusive, as day numbers since the epoch.
    let days: ClosedRange<Int64>
    /// In the order of `SummaryRollups.templates`.
    let reports: [SummaryReport]
    let latest: [ClickReportRow]
    let databaseIsEmpty: Bool
    let signedIn: Bool
    let webhookPath: String

    static let latestCount = 20

    static func label(_ day: Int64) -> String { String(Timestamp.format(day * 86_400_000).prefix(10)) }

    /// The summary's columns of one row by name.
    private struct Measures {
        let cells: [String: ReportCell]

        init(columns: [String], row: [ReportCell]) {
            cells = Dictionary(uniqueKeysWithValues: zip(columns, row))
        }

        func number(_ name: String) -> Int {
            if case .number(let value?) = cells[name] { return Int(value) }
            return 0
        }

        func optionalNumber(_ name: String) -> Int64? {
            if case .number(let value) = cells[name] { return value }
            return nil
        }

        /// The cell as the CSV report writes it.
        func text(_ name: String) -> String { cells[name]?.plainText ?? "" }

        func ratio(_ name: String) -> Double? {
            if case .ratio(let value) = cells[name] { return value }
            return nil
        }
    }

    private func rows(_ index: Int) -> [(group: [String?], measures: Measures)] {
        let report = reports[index]
        return report.rows.map { row in
            let groups = row.prefix(report.keys.count).map { cell -> String? in
                if case .text(let value) = cell { return value }
                return nil
            }
            return (Array(groups), Measures(columns: report.columns, row: row))
        }
    }

    var context: [String: Any] {
        let first = Self.label(days.lowerBound)
        let last = Self.label(days.upperBound)
        let end = Self.label(days.upperBound + 1)
        let totals = rows(0).first?.measures ?? Measures(columns: [], row: [])
        let histogram = reports[0].latencies(group: [])
        var context: [String: Any] = [
            "first_day": first, "last_day": last, "to_exclusive": end,
            "day_count": days.count, "signed_in": signedIn,
            "csv_url": "/api/v1/reports/clicks?from=\(first)&to=\(end)&format=csv",
            "json_url": "/api/v1/reports/clicks?from=\(first)&to=\(end)&format=json",
            "summary_url": "/api/v1/reports/summary?from=\(first)&to=\(end)&group_by=day&format=csv",
            "report_command": "clickattr report summary --from \(first) --to \(end)",
            "webhook_path": webhookPath, "latest_count": Self.latestCount,
        ]
        let empty = totals.number("clicks") == 0 && totals.number("orphan_visits") == 0
        context["empty"] = empty
        context["database_empty"] = databaseIsEmpty
        guard !empty else { return context }

        func kpi(_ name: String, _ label: String, _ shown: String, _ note: String = "") -> [String: Any] {
            ["name": name, "label": label, "shown": shown, "value": totals.text(name), "note": note]
        }
        func percent(_ name: String) -> String { totals.ratio(name).map(Format.percent) ?? "–" }
        func latency(_ name: String) -> String { totals.optionalNumber(name).map(Format.latency) ?? "–" }
        context["kpis"] = [
            kpi("clicks", "Clicks", Format.count(totals.number("clicks")), "link taps Meta reported"),
            kpi("visited_clicks", "Visited clicks", Format.count(totals.number("visited_clicks")), "a person reached the page"),
            kpi("visit_rate", "Visit rate", percent("visit_rate"), "visited clicks ÷ clicks"),
            kpi("conversions", "Conversions", Format.count(totals.number("conversions"))),
            kpi("conversion_rate", "Conversion rate", percent("conversion_rate"), "clicks with a conversion ÷ clicks"),
            kpi("conversion_value", "Conversion value", Format.money(reports[0].conversionValues(group: [])), "per currency"),
            kpi("orphan_visits", "Orphan visits", Format.count(totals.number("orphan_visits")), "click id Meta never reported"),
            kpi("bot_visits", "Bot visits", Format.count(totals.number("bot_visits")), "previews and crawlers"),
            kpi("p50_click_to_visit_ms", "Median latency", latency("p50_click_to_visit_ms"), "click to first visit"),
            kpi("p90_click_to_visit_ms", "p90 latency", latency("p90_click_to_visit_ms")),
            kpi("p99_click_to_visit_ms", "p99 latency", latency("p99_click_to_visit_ms")),
        ]
        let stages = [
            ("Clicks", totals.number("clicks")), ("Visited clicks", totals.number("visited_clicks")),
            ("Conversions", totals.number("conversions")),
        ]
        let funnelTitle = "Funnel: clicks, visited clicks, conversions"
        context["funnel_svg"] = Charts.funnel(id: "funnel", title: funnelTitle, stages: stages)
        context["funnel_svg_narrow"] = Charts.funnel(id: "funnel-n", title: funnelTitle, stages: stages, width: 380)

        // Every day of the range, a day without clicks as zeros.
        let byDay = Dictionary(rows(1).map { ($0.group[0] ?? "", $0.measures) }, uniquingKeysWith: { first, _ in first })
        let labels = days.map(Self.label)
        let zero = Measures(columns: [], row: [])
        let daily = labels.map { byDay[$0] ?? zero }
        let series: [Charts.Series] = [
            .init(name: "Clicks", values: daily.map { $0.number("clicks") }, fill: .solid),
            .init(name: "Visited clicks", values: daily.map { $0.number("visited_clicks") }, fill: .hatched),
            .init(name: "Conversions", values: daily.map { $0.number("conversions") }, fill: .dotted),
        ]
        let dailyTitle = "Clicks, visited clicks and conversions per UTC click day"
        context["daily_svg"] = Charts.groupedBars(
            id: "daily", title: dailyTitle, categories: labels, series: series, xLabel: "UTC click day",
            yLabel: "count per day")
        context["daily_svg_narrow"] = Charts.groupedBars(
            id: "daily-n", title: dailyTitle, categories: labels, series: series, xLabel: "UTC click day",
            yLabel: "count per day", width: 380, height: 260)
        context["daily"] = zip(labels, daily).map { label, measures -> [String: Any] in
            [
                "day": label, "clicks": Format.count(measures.number("clicks")), "clicks_value": measures.number("clicks"),
                "visited_clicks": Format.count(measures.number("visited_clicks")), "visited_value": measures.number("visited_clicks"),
                "conversions": Format.count(measures.number("conversions")), "conversions_value": measures.number("conversions"),
                "orphan_visits": Format.count(measures.number("orphan_visits")), "orphans_value": measures.number("orphan_visits"),
            ]
        }

        let percentiles = [
            ("p50", totals.optionalNumber("p50_click_to_visit_ms")), ("p90", totals.optionalNumber("p90_click_to_visit_ms")),
            ("p99", totals.optionalNumber("p99_click_to_visit_ms")),
        ]
        let latencyTitle = "Distribution of click-to-visit latency"
        context["latency_svg"] = Charts.latency(
            id: "latency", title: latencyTitle, histogram: histogram, percentiles: percentiles)
        context["latency_svg_narrow"] = Charts.latency(
            id: "latency-n", title: latencyTitle, histogram: histogram, percentiles: percentiles, width: 380, height: 280)
        let bins = Charts.LatencyBins(histogram)
        context["before_webhook"] = Format.count(bins.counts[0])
        context["visited_total"] = Format.count(histogram.count)

        context["breakdowns"] = [
            breakdown(2, title: "By product", key: "product_id", none: "(no product id)", help: "The product_id Meta sent with the click."),
            breakdown(
                3, title: "By clicked component", key: "click_component", none: "(not given)",
                help: "What the person tapped: the call-to-action button (cta) or the message body."),
            breakdown(
                4, title: "By route", key: "slug", none: "(no visit yet)",
                help: "The route of each click's first visit (so every click with a route was visited); clicks nobody visited have none. Orphans: visits whose click id Meta never reported.",
                orphans: true),
            breakdown(5, title: "By WhatsApp account", key: "waba_id", none: "(not given)", help: "The WhatsApp Business Account the message came from."),
        ]
        context["latest"] = latest.map { row -> [String: Any] in
            let cells = Measures(columns: ClickReportRow.columns, row: row.cells)
            let text = cells.text
            let latency = cells.optionalNumber("click_to_visit_ms").map(Format.latency) ?? "–"
            return [
                "clicked_at": text("clicked_at").replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: ".000Z", with: "Z"),
                "click_id": text("click_id"), "product_id": text("product_id"), "click_component": text("click_component"),
                "status": text("status"), "status_label": text("status").replacingOccurrences(of: "_", with: " "),
                "latency": latency, "visits": text("visits"), "bot_visits": text("bot_visits"),
                "conversions": text("conversions"),
                "conversion_value": row.conversionValues.isEmpty ? "" : Format.money(row.conversionValues),
            ]
        }
        return context
    }

    /// One breakdown table, its rows by clicks (most first), each with a bar as wide as its share of the clicks.
    private func breakdown(
        _ index: Int, title: String, key: String, none: String, help: String, orphans: Bool = false
    ) -> [String: Any] {
        // A group that only holds orphan visits (no clicks) is shown where orphans have a place: by route.
        let all = rows(index).filter { $0.measures.number("clicks") > 0 || (orphans && $0.measures.number("orphan_visits") > 0) }
        let clicks = max(all.map { $0.measures.number("clicks") }.max() ?? 0, 1)
        let sorted = all.sorted { lhs, rhs in
            let (l, r) = (lhs.measures.number("clicks"), rhs.measures.number("clicks"))
            return l != r ? l > r : (lhs.group[0] ?? "") < (rhs.group[0] ?? "")
        }
        return [
            "title": title, "key": key, "help": help, "orphans": orphans,
            "rows": sorted.map { row -> [String: Any] in
                let measures = row.measures
                return [
                    "name": row.group[0] ?? none, "key_value": row.group[0] ?? "", "missing": row.group[0] == nil,
                    "clicks": Format.count(measures.number("clicks")), "clicks_value": measures.text("clicks"),
                    "visited_clicks": Format.count(measures.number("visited_clicks")), "visited_value": measures.text("visited_clicks"),
                    "visit_rate": measures.ratio("visit_rate").map(Format.percent) ?? "–", "visit_rate_value": measures.text("visit_rate"),
                    "conversions": Format.count(measures.number("conversions")), "conversions_value": measures.text("conversions"),
                    "conversion_value": measures.text("conversion_value"),
                    "orphan_visits": Format.count(measures.number("orphan_visits")), "orphans_value": measures.text("orphan_visits"),
                    "conversion_value_shown": Format.money(reports[index].conversionValues(group: row.group)),
                    "share": String(format: "%.1f", 100 * Double(measures.number("clicks")) / Double(clicks)),
                ]
            },
        ]
    }
}
