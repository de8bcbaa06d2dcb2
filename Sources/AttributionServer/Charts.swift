import AttributionCore
import Foundation

/// The dashboard's charts, drawn on the server as inline SVG. Every text that comes from data is escaped; series
/// differ by fill pattern as well as colour, and every chart names its axes and units.
enum Charts {
    /// A series of bars: its name in the legend, and how it is filled (solid, hatched, dotted).
    struct Series {
        let name: String
        let values: [Int]
        let fill: Fill
    }

    enum Fill: CaseIterable {
        case solid, hatched, dotted

        func paint(_ prefix: String) -> String {
            switch self {
            case .solid: "#1f6f54"
            case .hatched: "url(#\(prefix)-hatch)"
            case .dotted: "url(#\(prefix)-dots)"
            }
        }
    }

    private static func patterns(_ prefix: String) -> String {
        """
        <defs><pattern id="\(prefix)-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
        <rect width="6" height="6" fill="#bfe3d2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1f6f54" stroke-width="2.5"/></pattern>\
        <pattern id="\(prefix)-dots" width="5" height="5" patternUnits="userSpaceOnUse">\
        <rect width="5" height="5" fill="#f3d9a4"/><circle cx="2.5" cy="2.5" r="1.4" fill="#8a5a00"/></pattern></defs>
        """
    }

    /// Bars of several series per category (one group a day), with a y axis of round numbers.
    static func groupedBars(
        id: String, title: String, categories: [String], series: [Series], xLabel: String, yLabel: String,
        width: Double = 1080, height: Double = 300
    ) -> String {
        let left = 56.0
        let right = 12.0
        let top = 34.0
        let bottom = 58.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let maximum = series.flatMap(\.values).max() ?? 0
        let ticks = niceTicks(maximum)
        let maxValue = Double(ticks.last ?? 1)
        var svg = open(id: id, title: title, width: width, height: height) + patterns(id)
        svg += axisGrid(ticks: ticks, topValue: maxValue, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        let slot = plotWidth / Double(max(categories.count, 1))
        let barWidth = min(18, slot * 0.8 / Double(max(series.count, 1)))
        let labelEvery = max(1, Int((Double(categories.count) / (width / 80)).rounded(.up)))
        for (index, category) in categories.enumerated() {
            let groupLeft = left + slot * Double(index) + (slot - barWidth * Double(series.count)) / 2
            for (number, one) in series.enumerated() {
                let value = index < one.values.count ? one.values[index] : 0
                let barHeight = plotHeight * Double(value) / maxValue
                svg += rect(
                    x: groupLeft + barWidth * Double(number), y: top + plotHeight - barHeight, width: barWidth - 1,
                    height: barHeight, fill: one.fill.paint(id), title: "\(category) \(one.name): \(value)")
            }
            if index % labelEvery == 0 {
                let x = left + slot * (Double(index) + 0.5)
                svg += text(x: x, y: top + plotHeight + 16, anchor: "middle", size: 11, shortDay(category))
            }
        }
        svg += axisLabels(xLabel: xLabel, yLabel: yLabel, width: width, height: height, top: top, plotHeight: plotHeight)
        svg += legend(series.map { ($0.name, $0.fill.paint(id)) }, x: left, y: 14)
        return svg + "</svg>"
    }

    /// The funnel: one horizontal bar a stage, as wide as its count, with the count and its share of the first.
    static func funnel(id: String, title: String, stages: [(label: String, value: Int)], width: Double = 540) -> String {
        let rowHeight = 46.0
        let labelWidth = width < 450 ? 104.0 : 124.0
        let height = rowHeight * Double(stages.count) + 34
        let first = max(stages.first?.value ?? 0, 1)
        var svg = open(id: id, title: title, width: width, height: height) + patterns(id)
        let fills = Fill.allCases
        for (index, stage) in stages.enumerated() {
            let y = 8 + rowHeight * Double(index)
            let share = Double(stage.value) / Double(first)
            let barWidth = (width - labelWidth - (width < 450 ? 120 : 170)) * min(share, 1)
            svg += text(x: 0, y: y + 22, anchor: "start", size: 13, stage.label, weight: "600")
            svg += rect(
                x: labelWidth, y: y + 6, width: max(barWidth, 1), height: 26, fill: fills[index % fills.count].paint(id),
                title: "\(stage.label): \(stage.value)")
            let percent = index == 0 ? "" : " · \(Format.percent(share))"
            svg += text(x: labelWidth + max(barWidth, 1) + 6, y: y + 24, anchor: "start", size: 12, Format.count(stage.value) + percent)
        }
        svg += text(x: 0, y: height - 6, anchor: "start", size: 11, "count, and share of the clicks", fill: "#4a5a52")
        return svg + "</svg>"
    }

    /// Latency bins: below 0 (a visit logged before its webhook's click time, which Meta gives to the second),
    /// then bins on a logarithmic axis; p50, p90 and p99 marked.
    struct LatencyBins {
        /// Bin edges in milliseconds: four bins a decade from 100 ms, up to past the largest latency.
        let edges: [Int64]
        /// Before 0, then 0..<100 ms, then one count between each pair of edges, then at or past the last edge.
        let counts: [Int]

        init(_ histogram: LatencyHistogram) {
            var edges: [Int64] = [0, 100]
            let largest = histogram.value(atPercentile: 100) ?? 0
            var exponent = 2.0
            while Double(edges.last!) <= Double(max(largest, 1000)), edges.count < 40 {
                exponent += 0.25
                edges.append(Int64(pow(10, exponent).rounded()))
            }
            self.edges = edges
            counts = histogram.counts(splitAt: edges)
        }
    }

    static func latency(
        id: String, title: String, histogram: LatencyHistogram, percentiles: [(String, Int64?)], width: Double = 540,
        height: Double = 300
    ) -> String {
        let bins = LatencyBins(histogram)
        let narrow = width < 450
        let left = 56.0
        let right = 12.0
        let top = 52.0
        let bottom = 58.0
        let plotHeight = height - top - bottom
        // The negative bucket stands apart, left of a gap; the positive bins share the log axis.
        let negativeWidth = 34.0
        let gap = 16.0
        let axisLeft = left + negativeWidth + gap
        let axisWidth = width - right - axisLeft
        let positive = Array(bins.counts.dropFirst())  // 0..<100 ms, the bins, then the overflow (empty by construction)
        let maximum = bins.counts.max() ?? 0
        let ticks = niceTicks(maximum)
        let topValue = Double(ticks.last ?? 1)
        // x of a latency on the log axis: 100 ms at the first bin's right edge, the last edge at the right.
        let lowLog = log10(100.0)
        let highLog = log10(Double(bins.edges.last!))
        let firstBinWidth = axisWidth / (Double(bins.edges.count - 1) + 1)  // 0..<100 ms drawn as one bin's width
        func x(_ milliseconds: Double) -> Double {
            guard milliseconds >= 100 else { return axisLeft + firstBinWidth * max(milliseconds, 0) / 100 }
            return axisLeft + firstBinWidth + (axisWidth - firstBinWidth) * (log10(milliseconds) - lowLog) / (highLog - lowLog)
        }
        var svg = open(id: id, title: title, width: width, height: height) + patterns(id)
        svg += axisGrid(ticks: ticks, topValue: topValue, left: left, top: top, plotWidth: width - left - right, plotHeight: plotHeight)
        func bar(_ from: Double, _ to: Double, _ count: Int, _ label: String, fill: String) {
            let barHeight = plotHeight * Double(count) / topValue
            svg += rect(x: from + 0.5, y: top + plotHeight - barHeight, width: max(to - from - 1, 1), height: barHeight,
                        fill: fill, title: "\(label): \(count) visited clicks")
        }
        bar(left, left + negativeWidth, bins.counts[0], "before the webhook's click time (< 0 s)", fill: Fill.hatched.paint(id))
        svg += text(x: left + negativeWidth / 2, y: top + plotHeight + 16, anchor: "middle", size: 11, "< 0 s")
        for (index, count) in positive.enumerated() where index < bins.edges.count {
            let from = index == 0 ? 0.0 : Double(bins.edges[index])
            let to = index + 1 < bins.edges.count ? Double(bins.edges[index + 1]) : Double(bins.edges[index])
            guard to > from else { continue }
            bar(x(from), x(to), count, "\(Format.latency(Int64(from))) to \(Format.latency(Int64(to)))", fill: Fill.solid.paint(id))
        }
        let marks: [Int64] = narrow ? [1_000, 60_000, 3_600_000, 86_400_000] : [100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000]
        for tick in marks where tick <= bins.edges.last! {
            let position = x(Double(tick))
            svg += "<line x1=\"\(f(position))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(position))\" y2=\"\(f(top + plotHeight + 5))\" stroke=\"#333\"/>"
            svg += text(x: position, y: top + plotHeight + 16, anchor: "middle", size: 11, Format.latency(tick))
        }
        for (number, (name, value)) in percentiles.enumerated() {
            guard let value else { continue }
            let position = value < 0 ? left + negativeWidth / 2 : x(Double(value))
            let labelY = top - 30 + Double(number) * 11
            svg += "<line x1=\"\(f(position))\" y1=\"\(f(labelY + 2))\" x2=\"\(f(position))\" y2=\"\(f(top + plotHeight))\" stroke=\"#b3261e\" stroke-width=\"1.5\" stroke-dasharray=\"\(number == 0 ? "5 3" : number == 1 ? "2 2" : "8 2 2 2")\"/>"
            let anchor = position > width - 120 ? "end" : "start"
            svg += text(x: position + (anchor == "start" ? 3 : -3), y: labelY, anchor: anchor, size: 11, "\(name) \(Format.latency(value))", fill: "#b3261e", weight: "600")
        }
        svg += axisLabels(
            xLabel: narrow ? "latency, log axis (first bar: < 0 s)" : "click-to-visit latency, logarithmic axis (first bar: visits before the click time)",
            yLabel: "visited clicks", width: width, height: height, top: top, plotHeight: plotHeight)
        return svg + "</svg>"
    }

    // MARK: Drawing

    private static func open(id: String, title: String, width: Double, height: Double) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(f(width)) \(f(height))" role="img" aria-labelledby="\(id)-title" \
        font-family="system-ui, sans-serif"><title id="\(id)-title">\(escape(title))</title>
        """
    }

    private static func axisGrid(
        ticks: [Int], topValue: Double, left: Double, top: Double, plotWidth: Double, plotHeight: Double
    ) -> String {
        var svg = ""
        for tick in ticks {
            let y = top + plotHeight - plotHeight * Double(tick) / topValue
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"\(tick == 0 ? "#333" : "#dde3e0")\"/>"
            svg += text(x: left - 6, y: y + 4, anchor: "end", size: 11, Format.count(tick))
        }
        return svg
    }

    private static func axisLabels(
        xLabel: String, yLabel: String, width: Double, height: Double, top: Double, plotHeight: Double
    ) -> String {
        text(x: width / 2, y: height - 10, anchor: "middle", size: 12, xLabel, fill: "#4a5a52")
            + "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#4a5a52\">\(escape(yLabel))</text>"
    }

    private static func legend(_ entries: [(String, String)], x: Double, y: Double) -> String {
        var svg = ""
        var position = x
        for (name, fill) in entries {
            svg += "<rect x=\"\(f(position))\" y=\"\(f(y - 10))\" width=\"14\" height=\"12\" fill=\"\(fill)\" stroke=\"#1f6f54\"/>"
            svg += text(x: position + 19, y: y, anchor: "start", size: 12, name)
            position += 19 + Double(name.count) * 7 + 18
        }
        return svg
    }

    private static func rect(x: Double, y: Double, width: Double, height: Double, fill: String, title: String) -> String {
        "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"\(fill)\" stroke=\"#1f6f54\" stroke-width=\"0.5\"><title>\(escape(title))</title></rect>"
    }

    private static func text(
        x: Double, y: Double, anchor: String, size: Int, _ content: String, fill: String = "#1d2b24", weight: String = "400"
    ) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(content))</text>"
    }

    /// Round tick values from 0 to at least `maximum`: steps of 1, 2 or 5 times a power of ten, 3 to 6 of them.
    static func niceTicks(_ maximum: Int) -> [Int] {
        guard maximum > 0 else { return [0, 1] }
        var step = 1
        while maximum / step > 5 {
            let mantissa = String(step).first!
            step = mantissa == "1" ? step * 2 : mantissa == "2" ? step * 5 / 2 : step * 2
        }
        let count = (maximum + step - 1) / step
        return (0...count).map { $0 * step }
    }

    /// `2026-11-28` as `Nov 28`.
    private static func shortDay(_ day: String) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = day.split(separator: "-")
        guard parts.count == 3, let month = Int(parts[1]), (1...12).contains(month), let dayNumber = Int(parts[2]) else { return day }
        return "\(months[month - 1]) \(dayNumber)"
    }

    private static func f(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    /// Text for HTML and SVG: the five characters that could end an element or attribute, escaped.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}

/// Numbers as people read them on the dashboard.
enum Format {
    /// `1234567` as `1,234,567`.
    static func count(_ value: Int) -> String {
        (value < 0 ? "-" : "") + grouped(String(value.magnitude))
    }

    /// Sums per currency as `13,948.45 BRL · 5,297.02 EUR` (the amounts as `report` writes them, thousands
    /// separated, every currency named); "–" without any.
    static func money(_ values: [(currency: String?, micros: Money.Sum)]) -> String {
        guard !values.isEmpty else { return "–" }
        return values.map { value in
            let amount = Money.format(value.micros)
            let negative = amount.hasPrefix("-")
            let sides = amount.dropFirst(negative ? 1 : 0).split(separator: ".", maxSplits: 1)
            let text = (negative ? "-" : "") + grouped(sides[0]) + (sides.count > 1 ? "." + sides[1] : "")
            return value.currency.map { "\(text) \($0)" } ?? text
        }.joined(separator: " · ")
    }

    /// Digits with a comma before every group of three from the right.
    private static func grouped(_ digits: some StringProtocol) -> String {
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }

    /// `0.7034` as `70.3 %`.
    static func percent(_ ratio: Double) -> String {
        String(format: "%.1f %%", ratio * 100)
    }

    /// Milliseconds as the unit that reads best: `850 ms`, `4.2 s`, `3.5 min`, `2.1 h`, `3.0 d`.
    static func latency(_ milliseconds: Int64) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let value = Double(milliseconds.magnitude)
        switch value {
        case ..<1_000: return "\(sign)\(Int(value)) ms"
        case ..<60_000: return sign + trimmed(value / 1_000) + " s"
        case ..<3_600_000: return sign + trimmed(value / 60_000) + " min"
        case ..<86_400_000: return sign + trimmed(value / 3_600_000) + " h"
        default: return sign + trimmed(value / 86_400_000) + " d"
        }
    }

    /// One decimal below 10, none above: `4.2`, `12`.
    private static func trimmed(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f", value).replacingOccurrences(of: ".0", with: "") : String(format: "%.0f", value)
    }
}
