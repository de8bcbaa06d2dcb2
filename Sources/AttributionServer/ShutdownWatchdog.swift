import Dispatch
import Foundation
import Logging

/// Whatever a stopping service waits for, the process ends: once SIGTERM or SIGINT has arrived, it exits
/// (code 1, with a log line) if the orderly shutdown has not finished within `seconds`. Plain Dispatch, not Swift
/// concurrency, so that it fires even when every task is stuck waiting.
///
/// The orderly shutdown takes at most about 20 s even with the database away: the server's 5 s drain, the
/// writers' last commits, the spool shipper's 10 s (whose last attempt may take 5 s more).
enum ShutdownWatchdog {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func arm(seconds: Int = 30, logger: Logger) {
        for signalNumber in [SIGTERM, SIGINT] {
            // The service group ignores these signals too and watches them the same way; both sources fire.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
                    logger.critical("the service did not stop within \(seconds) s of the signal to stop; exiting now")
                    exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
