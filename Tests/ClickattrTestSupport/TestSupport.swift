import Foundation
import Synchronization
import Testing

/// Polls `condition` every millisecond for up to 5 s; records an issue and throws when it never holds.
public func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<5_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("condition not met within 5 s", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// Scratch folders for tests, all under one folder per test process that is removed when the process exits.
public enum Scratch {
    private static let root: URL = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("clickattr-tests-\(ProcessInfo.processInfo.processIdentifier)")
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// A new, empty folder named after `purpose`.
    public static func directory(_ purpose: String) throws -> URL {
        let directory = root.appendingPathComponent("\(purpose)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// A gate that tasks pass through while it is open and wait at while it is shut, so a test can hold writes and
/// let a queue build up as under a burst.
public final class Gate: Sendable {
    private let state: Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>

    public init(open: Bool = true) {
        state = Mutex((open, []))
    }

    /// Tasks waiting at the shut gate.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func close() { state.withLock { $0.open = false } }

    /// Opens the gate and lets every waiting task through.
    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns at once while open; otherwise once the gate opens.
    public func pass() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }
}

/// Values appended from many tasks.
public final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    public init() {}

    public var all: [Value] { values.withLock { $0 } }

    public func append(_ value: Value) { values.withLock { $0.append(value) } }
}

/// Starts child processes one at a time. Foundation's `Process.run()` copies the environment and sets up its
/// descriptors in ways that are not safe to run on several threads at once: the tests once crashed inside it
/// (a bad read in `memcpy`) with curl being started from four threads together. Waiting for the child is
/// not serialised, only starting it.
public enum Spawn {
    static let lock = Mutex(())

    public static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }

    /// For code that starts processes without Foundation (posix_spawn), so that it too takes its turn.
    public static func serialised<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { _ in try body() }
    }
}

/// A TCP port nobody listens on now: the kernel's pick for a socket bound to port 0.
public enum FreePort {
    public struct Unavailable: Error {}

    public static func pick() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw Unavailable() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
