import Foundation
import Testing

@testable import AttributionServer

/// The shipper's view of the cores, read from this machine's `/proc/stat`.
@Suite struct CPUPressureTests {
    @Test func theCoresBusyTimeIsReadAndAFirstLookIsNotSaturated() throws {
        let (busy, total) = try #require(CPUPressure.read())
        #expect(total > 0 && busy <= total)
        // One look has nothing to compare with; a second within the interval gives the first answer again.
        let pressure = CPUPressure(threshold: 0, interval: .seconds(60))
        #expect(!pressure.saturated)
        #expect(!pressure.saturated)
    }

    @Test func aShareAtTheThresholdCountsAsSaturated() throws {
        let pressure = CPUPressure(threshold: 0, interval: .zero)
        #expect(!pressure.saturated)
        let first = try #require(CPUPressure.read())
        // Any share of the time between two looks is at least 0, once the cores' clock has ticked.
        while try #require(CPUPressure.read()).total <= first.total { usleep(10_000) }
        #expect(pressure.saturated)
    }
}
