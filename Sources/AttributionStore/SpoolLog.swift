import Foundation
import Synchronization

/// The spool's append-only log: each group commit's visits as one numbered frame, written at the end of a segment
/// file beside the spool's database (`<spool>.log-<first frame's number>`) and synced with one `fdatasync`. No
/// page, index or transaction of a database is on this path: a commit costs its bytes and one sync.
///
/// A frame is a header (magic, number, visit count, payload length, CRC-32C of the payload) and the visits'
/// records (`SpoolRecord`). Frames are numbered from 1 for the life of the log and never reused. A segment grows to
/// `segmentBytes` and is then followed by a new one; once all of a segment's frames are shipped it is kept as the
/// spare, to be written over by a later segment, or deleted. At opening the segments are read through: a frame
/// cut short at the end of what a segment holds (a crash before its sync returned, so no visitor was answered on
/// it) is where its frames end; a frame that does not check with one that does after it is damage, and the log
/// refuses to open rather than skip visits.
final class SpoolLog: Sendable {
    /// A frame written and not yet shipped.
    struct Frame {
        let number: Int64
        /// The first frame number of its segment: the segment's name.
        let segment: Int64
        /// Where its payload starts in the segment.
        let offset: Int64
        let length: Int
        let visits: Int
    }

    static let headerSize = 24
    /// "CAv1", little-endian.
    static let magic: UInt32 = 0x3176_4143

    let directory: String
    /// The file name of a segment without its number.
    let prefix: String
    let segmentBytes: Int64
    private let sparePath: String

    /// The segment being written: only the appending thread uses it (appends are serialised by this lock).
    private struct Writing {
        var descriptor: Int32 = -1
        var segment: Int64 = 0
        var size: Int64 = 0
        /// Whether the segment was the spare: frames are written over its old ones rather than grow it.
        var preallocated = false
        var next: Int64
    }
    private let writing: Mutex<Writing>

    /// Whether a shipped segment waits under `sparePath` to be written over as the next segment. Over blocks already
    /// allocated a frame's `fdatasync` has no file size or extent to journal: on this machine's ext4 a 7.5 KB write
    /// and sync took 158 µs and 72 µs of CPU, against 233 µs and 100–155 µs when it grows the file. The frames left
    /// in it are numbered below the segment's own, so the opening read stops at them.
    private let spareReady: Mutex<Bool>

    /// Frames written and not yet shipped, oldest first (from `first` on), and the segments on disk.
    private struct Queue {
        var frames: [Frame] = []
        var first = 0
        var segments: [Int64] = []
        /// The segment being written, never deleted.
        var current: Int64?
    }
    private let queue: Mutex<Queue>

    /// Opens the log of the spool at `path`, forgetting frames numbered up to `shippedThrough`.
    init(spoolPath path: String, shippedThrough: Int64, segmentBytes: Int64) throws(StoreOpenError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".log-"
        self.directory = directory
        self.prefix = prefix
        self.segmentBytes = segmentBytes
        let sparePath = directory + "/" + prefix + "spare"
        self.sparePath = sparePath
        var state = Queue()
        var seen: Int64 = 0
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw StoreOpenError(reason: systemReason(error))
        }
        let segments = names.compactMap { name -> Int64? in
            guard name.hasPrefix(prefix) else { return nil }
            return Int64(name.dropFirst(prefix.count))
        }.sorted()
        var spare = access(sparePath, F_OK) == 0
        for (index, segment) in segments.enumerated() {
            let path = Self.name(directory, prefix, segment)
            // A segment's frames are numbered below the next segment's name: one followed by a segment named past
            // the shipped mark holds nothing to ship, and is not read.
            if index + 1 < segments.count, segments[index + 1] - 1 <= shippedThrough {
                Self.retire(path, spare: sparePath, spareReady: &spare)
                continue
            }
            let frames: [Frame]
            do {
                frames = try Self.read(segment: path, first: segment)
            } catch {
                throw error as? StoreOpenError ?? StoreOpenError(reason: "\(error)")
            }
            if let end = frames.last?.number { seen = end }
            let unshipped = frames.filter { $0.number > shippedThrough }
            if unshipped.isEmpty, segment != segments.last {
                Self.retire(path, spare: sparePath, spareReady: &spare)
                continue
            }
            state.frames += unshipped
            state.segments.append(segment)
        }
        queue = Mutex(state)
        writing = Mutex(Writing(next: max(seen, shippedThrough) + 1))
        spareReady = Mutex(spare)
    }

    /// A segment whose frames are all shipped becomes the spare when there is none, and is deleted otherwise.
    private static func retire(_ path: String, spare: String, spareReady: inout Bool) {
        if !spareReady, rename(path, spare) == 0 {
            spareReady = true
        } else {
            unlink(path)
        }
    }

    deinit {
        close()
    }

    /// Closes the segment being written; the next append starts a new one.
    func close() {
        writing.withLock { writing in
            if writing.descriptor >= 0 { Foundation.close(writing.descriptor) }
            writing.descriptor = -1
        }
    }

    /// The visits in frames not yet shipped, and what they count for against the spool's bound.
    var waiting: (visits: Int, bytes: Int64) {
        queue.withLock { queue in
            queue.frames[queue.first...].reduce((0, 0)) { ($0.0 + $1.visits, $0.1 + Self.bytes(length: $1.length, visits: $1.visits)) }
        }
    }

    /// What a frame counts for against the spool's bound: its records, and a share of overhead for each visit.
    static func bytes(length: Int, visits: Int) -> Int64 { Int64(length + 16 * visits) }

    /// The number of the oldest frame not yet shipped.
    var oldestWaiting: Int64? { queue.withLock { $0.first < $0.frames.count ? $0.frames[$0.first].number : nil } }

    /// The number of the last frame written (or shipped, when none waits).
    var lastNumber: Int64 { writing.withLock { $0.next - 1 } }

    /// Writes `frame` — `headerSize` bytes for the header, then the records of `visits` visits — at the end of the
    /// log and syncs it; returns its number. On failure the segment is not written to again (the next append starts
    /// a new one) and the number is not used again.
    func append(_ frame: inout [UInt8], visits: Int) throws -> Int64 {
        precondition(frame.count >= Self.headerSize)
        return try writing.withLock { (writing: inout Writing) throws -> Int64 in
            let full = writing.size > 0 && writing.size + Int64(frame.count) > segmentBytes
            if writing.descriptor < 0 || full || (!writing.preallocated && spareReady.withLock({ $0 })) {
                try startSegment(&writing)
            }
            let number = writing.next
            writing.next += 1
            let length = frame.count - Self.headerSize
            frame.withUnsafeMutableBytes { bytes in
                let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[Self.headerSize...]))
                bytes.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
                bytes.storeBytes(of: UInt64(number).littleEndian, toByteOffset: 4, as: UInt64.self)
                bytes.storeBytes(of: UInt32(visits).littleEndian, toByteOffset: 12, as: UInt32.self)
                bytes.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 16, as: UInt32.self)
                bytes.storeBytes(of: crc.littleEndian, toByteOffset: 20, as: UInt32.self)
            }
            let failure: Int32? = frame.withUnsafeBytes { bytes in
                guard Self.write(writing.descriptor, bytes, at: writing.size) else { return errno }
                return fdatasync(writing.descriptor) == 0 ? nil : errno
            }
            if let failure {
                // A sync error is not trusted to be reported again: the segment is left as it is, its end
                // unfinished (the opening read stops there), and not written to again.
                Foundation.close(writing.descriptor)
                writing.descriptor = -1
                throw StoreOpenError(reason: "writing the visit spool's log: " + systemReason(code: failure))
            }
            let written = Frame(
                number: number, segment: writing.segment, offset: writing.size + Int64(Self.headerSize), length: length,
                visits: visits)
            queue.withLock { $0.frames.append(written) }
            writing.size += Int64(frame.count)
            return number
        }
    }

    /// `pwrite` until all is written; false (with `errno`) on failure.
    private static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        var done = 0
        while done < bytes.count {
            let wrote = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else { return false }
            done += wrote
        }
        return true
    }

    /// Starts the next segment, named after the frame about to be written: the spare when there is one, a new
    /// empty file otherwise; syncs the directory so that the file is there under its name after a crash.
    private func startSegment(_ writing: inout Writing) throws {
        if writing.descriptor >= 0 { Foundation.close(writing.descriptor) }
        writing.descriptor = -1
        let segment = writing.next
        let path = Self.name(directory, prefix, segment)
        let preallocated = spareReady.withLock { ready in
            defer { ready = false }
            return ready && rename(sparePath, path) == 0
        }
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | (preallocated ? 0 : O_CREAT | O_TRUNC), 0o644)
        guard descriptor >= 0 else {
            throw StoreOpenError(reason: "creating the visit spool's log \(path): " + systemReason(code: errno))
        }
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let synced = folder >= 0 && fsync(folder) == 0
        let reason = errno
        if folder >= 0 { Foundation.close(folder) }
        guard synced else {
            Foundation.close(descriptor)
            throw StoreOpenError(reason: "syncing the folder of the visit spool's log: " + systemReason(code: reason))
        }
        writing.descriptor = descriptor
        writing.segment = segment
        writing.size = 0
        writing.preallocated = preallocated
        queue.withLock { queue in
            if queue.segments.last != segment { queue.segments.append(segment) }
            queue.current = segment
        }
    }

    /// The oldest frames not yet shipped with their payloads: as many as reach `limit` visits, at least one.
    func oldest(limit: Int) throws -> [(frame: Frame, records: [UInt8])] {
        let frames = queue.withLock { queue -> [Frame] in
            var taken: [Frame] = []
            var visits = 0
            var index = queue.first
            while index < queue.frames.count, taken.isEmpty || visits < limit {
                taken.append(queue.frames[index])
                visits += queue.frames[index].visits
                index += 1
            }
            return taken
        }
        var read: [(frame: Frame, records: [UInt8])] = []
        read.reserveCapacity(frames.count)
        var open: (segment: Int64, descriptor: Int32)?
        defer { if let open { Foundation.close(open.descriptor) } }
        for frame in frames {
            if open?.segment != frame.segment {
                if let open { Foundation.close(open.descriptor) }
                open = nil
                let path = Self.name(directory, prefix, frame.segment)
                let descriptor = Foundation.open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw StoreOpenError(reason: "reading the visit spool's log \(path): " + systemReason(code: errno))
                }
                open = (frame.segment, descriptor)
            }
            let records = try Self.read(open!.descriptor, at: frame.offset, count: frame.length)
            read.append((frame, records))
        }
        return read
    }

    /// Forgets the frames numbered up to `number` (shipped); of the segments that hold none but those, one is kept
    /// as the spare and the others deleted.
    func forget(through number: Int64) {
        let deletable = queue.withLock { queue -> [Int64] in
            while queue.first < queue.frames.count, queue.frames[queue.first].number <= number { queue.first += 1 }
            if queue.first > 4_096, queue.first * 2 > queue.frames.count {
                queue.frames.removeFirst(queue.first)
                queue.first = 0
            }
            let oldestKept = queue.first < queue.frames.count ? queue.frames[queue.first].segment : Int64.max
            let deletable = queue.segments.filter { $0 < oldestKept && $0 != queue.current }
            queue.segments.removeAll { deletable.contains($0) }
            return deletable
        }
        for segment in deletable {
            spareReady.withLock { Self.retire(Self.name(directory, prefix, segment), spare: sparePath, spareReady: &$0) }
        }
    }

    /// The segment files on disk, oldest first (for tests and for the operator's eyes).
    var segmentPaths: [String] { queue.withLock { $0.segments.map { Self.name(directory, prefix, $0) } } }

    private static func name(_ directory: String, _ prefix: String, _ segment: Int64) -> String {
        let digits = String(segment)
        return directory + "/" + prefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    private static func read(_ descriptor: Int32, at offset: Int64, count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if got < 0, errno == EINTR { continue }
                guard got > 0 else {
                    throw StoreOpenError(reason: "reading the visit spool's log: " + systemReason(code: got < 0 ? errno : EIO))
                }
                done += got
            }
            initialized = count
        }
    }

    /// Reads a segment's frames, checking each: the first is numbered as the segment, each next one higher.
    ///
    /// The frames end at the first that does not check. What follows it is the unfinished end of an append that a
    /// crash or a failed sync cut short (no visitor was answered on it), or frames of the segment's earlier life as
    /// a spare, numbered below it; if a frame numbered above the last one lies anywhere after it, frames that were
    /// answered are damaged, and the log is not opened.
    private static func read(segment path: String, first: Int64) throws -> [Frame] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StoreOpenError(reason: "reading the visit spool's log \(path): " + systemReason(error))
        }
        return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> [Frame] in
            var frames: [Frame] = []
            var offset = 0
            while let frame = frame(in: bytes, at: offset, after: frames.last?.number ?? first - 1),
                !frames.isEmpty || frame.number == first
            {
                frames.append(Frame(number: frame.number, segment: first, offset: Int64(offset + headerSize), length: frame.length, visits: frame.visits))
                offset += headerSize + frame.length
            }
            let previous = frames.last?.number ?? first - 1
            if let later = (offset + 1..<max(offset + 1, bytes.count)).first(where: { frame(in: bytes, at: $0, after: previous) != nil }) {
                throw StoreOpenError(
                    reason: "the visit spool's log \(path) is damaged at byte \(offset) (a frame that checks follows at byte "
                        + "\(later)); move the file aside to start, its visits from byte \(offset) on would not be shipped")
            }
            return frames
        }
    }

    /// The frame whose header is at `offset`, when its header and payload are all there, its payload checks and
    /// its number is above `after`.
    private static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int, after: Int64) -> (number: Int64, visits: Int, length: Int)? {
        guard bytes.count - offset >= headerSize,
            bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian == magic
        else { return nil }
        let number = Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt64.self).littleEndian)
        let visits = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self).littleEndian)
        let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self).littleEndian)
        let crc = bytes.loadUnaligned(fromByteOffset: offset + 20, as: UInt32.self).littleEndian
        let start = offset + headerSize
        guard number > after, length <= bytes.count - start,
            crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]))
        else { return nil }
        return (number, visits, length)
    }
}

/// CRC-32C (Castagnoli), as used by iSCSI and ext4, eight bytes at a time ("slicing by 8": eight tables of 256,
/// each a byte's contribution from a place further back). Byte by byte it was 12% of the visit writer's thread.
enum CRC32C {
    /// Table `k` (entries `k * 256 ..< (k + 1) * 256`) is the remainder of a byte followed by `k` zero bytes.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
            tables[index] = value
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            var offset = 0
            while bytes.count - offset >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    ^ UInt64(crc)
                crc = table[7 * 256 + Int(word & 0xFF)] ^ table[6 * 256 + Int(word >> 8 & 0xFF)]
                    ^ table[5 * 256 + Int(word >> 16 & 0xFF)] ^ table[4 * 256 + Int(word >> 24 & 0xFF)]
                    ^ table[3 * 256 + Int(word >> 32 & 0xFF)] ^ table[2 * 256 + Int(word >> 40 & 0xFF)]
                    ^ table[256 + Int(word >> 48 & 0xFF)] ^ table[Int(word >> 56)]
                offset += 8
            }
            while offset < bytes.count {
                crc = table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
            return ~crc
        }
    }
}
