import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the TLS certificate (`systemctl reload`). Trapped even without TLS, so that a reload never
/// stops the service: SIGHUP's default is to end the process.
struct SignalReloader: Service {
    let certificates: CertificateStore?
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in signals {
                guard let certificates else {
                    logger.info("SIGHUP: no http.tls certificate is configured, so there is nothing to reload")
                    continue
                }
                do {
                    try certificates.reload()
                    logger.info("SIGHUP: TLS certificate reloaded from \(certificates.certificatePath)")
                } catch {
                    logger.error("SIGHUP: the TLS certificate was not reloaded, the previous one stays: \(error)")
                }
            }
        }
    }
}
