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

/// Starts child processes one at a time, so that no two spawns set up their descriptors at once.
public enum Spawn {
    static let lock = Mutex(())

    public static func serialised<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { _ in try body() }
    }
}

/// A child process, started with `posix_spawn` and nothing of Foundation's `Process`: on Linux that lists
/// `/proc/self/fd` to close what the child must not inherit, copying each directory entry's whole 256-byte name
/// field, which reads past the end of the listing's buffer when the last entry ends at a page boundary (the test
/// process, with hundreds of descriptors open, crashed there in `memcpy`). Here the child closes every
/// descriptor from 3 up itself (`closefrom`). The members are those of `Process` that the tests use.
public final class ChildProcess: @unchecked Sendable {
    public var executableURL: URL?
    public var arguments: [String] = []
    /// Nil inherits this process's environment.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `Pipe` or a `FileHandle`; nil inherits this process's.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?

    private let state = Mutex<(pid: pid_t, status: Int32?)>((0, nil))

    public init() {}

    public var processIdentifier: Int32 { state.withLock { $0.pid } }

    public func run() throws {
        guard let path = executableURL?.path else { throw SpawnFailure(description: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, stream, reads) in [(Int32(0), standardInput, true), (1, standardOutput, false), (2, standardError, false)] {
            if let descriptor = Self.descriptor(stream, reads: reads) {
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        spawnCloseFrom(&actions, 3)
        if let directory = currentDirectoryURL?.path { spawnChangeDirectory(&actions, directory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { variables.forEach { free($0) } }
        var pid: pid_t = 0
        let result = Spawn.serialised { posix_spawn(&pid, path, &actions, &attributes, argv, variables) }
        guard result == 0 else {
            throw SpawnFailure(description: "\(path) could not be started: \(String(cString: strerror(result)))")
        }
        state.withLock { $0.pid = pid }
        // The child has its ends of the pipes; this process keeps only its own.
        (standardInput as? Pipe)?.fileHandleForReading.closeFile()
        (standardOutput as? Pipe)?.fileHandleForWriting.closeFile()
        (standardError as? Pipe)?.fileHandleForWriting.closeFile()
    }

    private static func descriptor(_ stream: Any?, reads: Bool) -> Int32? {
        switch stream {
        case let pipe as Pipe: reads ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
        case let handle as FileHandle: handle.fileDescriptor
        default: nil
        }
    }

    public func terminate() {
        let pid = processIdentifier
        if pid > 0 { kill(pid, SIGTERM) }
    }

    /// Reaps the child if it has exited; true while it runs.
    public var isRunning: Bool {
        state.withLock { state in
            guard state.pid > 0, state.status == nil else { return false }
            var status: Int32 = 0
            if waitpid(state.pid, &status, WNOHANG) == state.pid { state.status = status }
            return state.status == nil
        }
    }

    public func waitUntilExit() {
        while isRunning { usleep(2_000) }
    }

    /// The exit code, or the number of the signal that ended the child.
    public var terminationStatus: Int32 {
        let status = state.withLock { $0.status } ?? 0
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }

    public struct SpawnFailure: Error, CustomStringConvertible {
        public let description: String
    }
}

// glibc (2.34 and later) has these, but its headers show them to Swift only with _GNU_SOURCE.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32

@_silgen_name("posix_spawn_file_actions_addchdir_np")
func spawnChangeDirectory(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>)
    -> Int32

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
