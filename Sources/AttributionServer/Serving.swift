import AttributionStore
import Foundation
import Logging
import NIOCore

/// Builds the service and runs it until SIGTERM or SIGINT.
/// An address the server cannot listen on (taken, privileged, not this machine's) is the operator's to fix:
/// it becomes one sentence naming the address and the keys that set it, not NIO's bind error.
public func serve(config: ClickattrConfig, logger: Logger) async throws {
    ConnectionCeiling.raiseDescriptorLimit()
    MemoryReturn.configure()
    let app = try await buildApplication(config: config, logger: logger)
    ShutdownWatchdog.arm(logger: logger)
    do {
        try await app.runService()
    } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
        throw UsageError(
            "cannot listen on \(config.http.host):\(config.http.port): \(systemReason(code: error.errnoCode)); "
                + "choose another http.port / http.host (CLICKATTR_HTTP_PORT, CLICKATTR_HTTP_HOST)")
    }
}
