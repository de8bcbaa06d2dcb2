/// Keeps only the network part of an IP address (IPv4 /24 and IPv6 /48 by default), so no visitor is identifiable.
public struct IPAnonymizer: Sendable, Equatable {
    public let ipv4Prefix: Int
    public let ipv6Prefix: Int

    /// A prefix of 0 stores no address at all; 32 and 128 keep it whole.
    public init(ipv4Prefix: Int = 24, ipv6Prefix: Int = 48) {
        precondition((0...32).contains(ipv4Prefix) && (0...128).contains(ipv6Prefix))
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
    }

    /// The truncated address in its usual notation, or nil when the input is not an IP address or is not kept.
    public func anonymize(_ address: String) -> String? {
        if let v4 = Self.parseIPv4(Substring(address)) {
            return ipv4Prefix == 0 ? nil : Self.formatIPv4(Self.mask(v4, prefix: ipv4Prefix))
        }
        guard let v6 = Self.parseIPv6(address) else { return nil }
        // An IPv4-mapped address (::ffff:a.b.c.d) is an IPv4 visitor and follows the IPv4 rule.
        if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xff && v6[11] == 0xff {
            return ipv4Prefix == 0 ? nil : Self.formatIPv4(Self.mask(Array(v6[12...]), prefix: ipv4Prefix))
        }
        return ipv6Prefix == 0 ? nil : Self.formatIPv6(Self.mask(v6, prefix: ipv6Prefix))
    }

    static func mask(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsKept = min(max(prefix - index * 8, 0), 8)
            return bitsKept == 0 ? 0 : byte & ~UInt8(truncatingIfNeeded: (1 << (8 - bitsKept)) - 1)
        }
    }

    /// Four decimal numbers of at most three digits, each at most 255, read byte by byte: this runs on every visit.
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, bytes.count < 3 else { return nil }
                bytes.append(UInt8(value))
                (value, digits) = (0, 0)
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, bytes.count == 3 else { return nil }
        bytes.append(UInt8(value))
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        // A zone index (fe80::1%eth0) names a local interface and says nothing about the visitor.
        let address = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        let halves = address.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseIPv4(piece) {
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    static func formatIPv4(_ bytes: [UInt8]) -> String {
        "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])"
    }

    /// RFC 5952: lower case, leading zeros dropped, the longest run of two or more zero groups as "::".
    static func formatIPv6(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
