import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// A child channel with TLS in front of `base`, taking each new connection's context from `certificates`,
/// so that a certificate reloaded on SIGHUP serves the next connection. (HummingbirdTLS fixes its context when
/// the server starts.)
struct ReloadingTLSChannel<Base: ServerChildChannel & HTTPChannelHandler>: ServerChildChannel, HTTPChannelHandler {
    typealias Value = Base.Value

    let base: Base
    let certificates: CertificateStore

    var responder: Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificates.current))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
