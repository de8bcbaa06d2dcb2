import AttributionCore

/// A visit as the spool keeps it: one compact binary record, many to a spooled batch. The time as 8 bytes, then
/// each text as a varint of its UTF-8 length plus one (0 for none) and its bytes, the click parameters as a count
/// and their name/value texts.
enum SpoolRecord {
    /// A spooled batch that does not decode: the spool file was damaged outside clickattr.
    struct Damaged: Error, CustomStringConvertible {
        let description = "a spooled batch of visits does not decode; the spool file was changed outside clickattr"
    }

    static func append(_ visit: Visit, to out: inout [UInt8]) {
        withUnsafeBytes(of: visit.visitedAt.littleEndian) { out.append(contentsOf: $0) }
        appendText(visit.method, to: &out)
        appendText(visit.path, to: &out)
        appendText(visit.slug, to: &out)
        appendText(visit.clickID, to: &out)
        appendVarint(UInt64(visit.clickParameters.count), to: &out)
        // Sorted by name where they lie on the stack: a sorted copy was an allocation a visit on the writer's thread.
        withUnsafeTemporaryAllocation(of: (key: String, value: String).self, capacity: visit.clickParameters.count) {
            buffer in
            var parameters = buffer
            _ = parameters.initialize(fromContentsOf: visit.clickParameters)
            parameters.sort { $0.key < $1.key }
            for (name, value) in parameters {
                appendText(name, to: &out)
                appendText(value, to: &out)
            }
            parameters.deinitialize()
        }
        appendText(visit.clickIDProblem?.rawValue, to: &out)
        appendText(visit.visitorID, to: &out)
        appendText(visit.userAgent, to: &out)
        appendText(visit.referrer, to: &out)
        appendText(visit.ip, to: &out)
        appendText(visit.botReason, to: &out)
    }

    /// Decodes `count` records that fill `bytes` exactly.
    static func decode(_ bytes: [UInt8], count: Int) throws(Damaged) -> [Visit] {
        try bytes.withUnsafeBufferPointer { bytes throws(Damaged) in
            var cursor = Cursor(bytes: bytes)
            var visits: [Visit] = []
            visits.reserveCapacity(count)
            for _ in 0..<count { visits.append(try cursor.visit()) }
            guard cursor.atEnd else { throw Damaged() }
            return visits
        }
    }

    /// Reads records field by field where they lie, for binding them without making strings.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func time() throws(Damaged) -> Int64 {
            guard offset + 8 <= bytes.count else { throw Damaged() }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            offset += 8
            return Int64(bitPattern: value)
        }

        mutating func varint() throws(Damaged) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            throw Damaged()
        }

        /// A text's UTF-8 bytes, in place; nil for none.
        mutating func text() throws(Damaged) -> UnsafeBufferPointer<UInt8>? {
            let length = try varint()
            guard length > 0 else { return nil }
            guard length - 1 <= UInt64(bytes.count - offset) else { throw Damaged() }
            let size = Int(length - 1)
            defer { offset += size }
            return UnsafeBufferPointer(rebasing: bytes[offset..<offset + size])
        }

        mutating func required() throws(Damaged) -> UnsafeBufferPointer<UInt8> {
            guard let text = try text() else { throw Damaged() }
            return text
        }

        /// The next record as a visit.
        mutating func visit() throws(Damaged) -> Visit {
            let visitedAt = try time()
            let method = try string(try required())
            let path = try string(try required())
            let slug = try text().map(string)
            let clickID = try text().map(string)
            var parameters: [String: String] = [:]
            for _ in 0..<(try varint()) {
                let name = string(try required())
                parameters[name] = string(try required())
            }
            let problem = try text().map(string)
            return Visit(
                visitedAt: visitedAt, method: method, path: path, slug: slug, clickID: clickID,
                clickParameters: parameters, clickIDProblem: problem.flatMap(ClickID.Problem.init(rawValue:)),
                visitorID: try text().map(string), userAgent: try text().map(string),
                referrer: try text().map(string), ip: try text().map(string), botReason: try text().map(string))
        }

        private func string(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
            String(decoding: utf8, as: UTF8.self)
        }
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    private static func appendText(_ text: String?, to out: inout [UInt8]) {
        guard var text else { return out.append(0) }
        text.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count) + 1, to: &out)
            out.append(contentsOf: utf8)
        }
    }
}
