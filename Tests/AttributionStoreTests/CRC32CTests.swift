import Testing

@testable import AttributionStore

/// The spool's frame checksum against published values (RFC 3720, B.4, and the usual check string) and against
/// the plain byte-at-a-time definition at every length and alignment that slicing by eight meets.
@Suite struct CRC32CTests {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }

    /// The definition, one bit at a time.
    static func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func publishedValues() {
        #expect(Self.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(Self.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(Self.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(Self.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(Self.checksum([]) == 0)
    }

    @Test func everyLengthAndOffsetMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<96).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<8 {
            for end in start...bytes.count {
                let slice = bytes[start..<end]
                let sliced = slice.withUnsafeBytes { CRC32C.checksum($0) }
                #expect(sliced == Self.reference(slice), "bytes \(start)..<\(end)")
            }
        }
    }
}
