import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the server under test, for what curl will not do: send half a request and stall,
/// or hold a connection open and see when the server closes it.
final class RawConnection {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(what: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw Failure(what: "connect", code: code)
        }
    }

    deinit {
        close(descriptor)
    }

    struct Failure: Error {
        let what: String
        let code: Int32
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure(what: "send", code: errno) }
            sent += count
        }
    }

    /// Reads until the server closes the connection or `timeout` passes; says which, and what arrived.
    func readUntilClosed(timeout: Double) -> (text: String, closed: Bool, seconds: Double) {
        let start = Date()
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date().timeIntervalSince(start) < timeout {
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = max(1, Int32((timeout - Date().timeIntervalSince(start)) * 1000))
            guard poll(&descriptors, 1, min(remaining, 100)) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                return (String(decoding: received, as: UTF8.self), true, Date().timeIntervalSince(start))
            }
            received.append(contentsOf: buffer[..<count])
        }
        return (String(decoding: received, as: UTF8.self), false, Date().timeIntervalSince(start))
    }

    /// Reads until `marker` has arrived (or the connection closes, or `timeout` passes).
    func read(until marker: String, timeout: Double) -> String {
        let start = Date()
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date().timeIntervalSince(start) < timeout {
            var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptors, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: buffer[..<count])
            if String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
