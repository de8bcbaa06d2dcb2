import HTTPTypes
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOSSL
import NIOTLS

/// Native TLS: each new connection takes its context from `certificates` (so a certificate reloaded on SIGHUP
/// serves the next connection; HummingbirdTLS fixes its context when the server starts), and ALPN picks HTTP/2
/// or HTTP/1.1. HTTP/1.1 gets the usual client limits; HTTP/2 gets the same idle and drain times for the
/// connection and the body deadline for each stream. A client that does not finish its handshake within the
/// header time is dropped.
struct ReloadingTLSChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Negotiated = NIONegotiatedHTTPVersion<LimitedHTTP1Channel.Value, HTTP2Channel.Value>

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let http1: LimitedHTTP1Channel
    let http2: HTTP2Channel
    let certificates: CertificateStore
    let handshakeTimeout: TimeAmount

    init(
        responder: @escaping Responder, limits: ClientLimits, certificates: CertificateStore,
        http1Handlers: @escaping @Sendable () -> [any RemovableChannelHandler] = { [] },
        http1Bytes: (@Sendable (ConnectionClock) -> any ChannelHandler)? = nil
    ) {
        // Over HTTP/1.1 the landing handlers answer landing requests; over HTTP/2 they take the router's path.
        http1 = LimitedHTTP1Channel(
            inner: HTTP1Channel(responder: responder), limits: limits, landing: http1Handlers, landingBytes: http1Bytes)
        http2 = HTTP2Channel(
            responder: responder,
            configuration: .init(
                idleTimeout: Self.duration(limits.idle), gracefulCloseTimeout: Self.duration(limits.drain),
                streamConfiguration: .init(additionalChannelHandlers: [StreamBodyDeadline(limit: limits.body)])))
        self.certificates = certificates
        handshakeTimeout = limits.header
    }

    var responder: Responder { http1.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(NIOSSLServerHandler(context: certificates.current))
            let alpn = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result in
                switch result {
                case .negotiated("h2"):
                    return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).map { .http1_1($0) }
                case .negotiated:
                    return channel.close().flatMap { channel.eventLoop.makeFailedFuture(NIOHTTP2Errors.invalidALPNToken()) }
                }
            }
            try sync.addHandler(alpn)
            let deadline = channel.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
            let negotiated = alpn.protocolNegotiationResult
            negotiated.whenComplete { _ in deadline.cancel() }
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1_1(let connection):
                await http1.handle(value: connection, logger: logger)
            case .http2(let connection):
                await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("TLS connection ended before a protocol was agreed: \(error)")
        }
    }

    private static func duration(_ amount: TimeAmount) -> Duration {
        .nanoseconds(amount.nanoseconds)
    }
}

/// On an HTTP/2 stream, a request body that stops flowing for `limit` ends the stream (the connection's other
/// streams go on). HTTP/2's flow control already bounds what one stream can hold in memory.
final class StreamBodyDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limit: TimeAmount
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head, .body:
            timer?.cancel()
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
        case .end:
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }
}
