import DequeModule
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The landing path ahead of the HTTP/1 decoder: a connection whose requests are plain GETs and HEADs for landing
/// paths (a visitor's tap, a crawler's preview) is read and answered here, from its bytes, with no HTTP parts,
/// header lists or encoder in between; each answer is written as one buffer once its visit's commit is on disk.
/// The first request that is anything else (the router's path, a POST, a body, anything unusual: see
/// `WireRequest`) hands the connection over for good: once the answers owed before it are written, its bytes and
/// every later byte go to NIO's decoder, `LandingChannelHandler` and the router, as on any other connection.
/// Answers therefore leave in request order, and every request the fast path declines is answered exactly as
/// before.
final class LandingFastPath: ChannelDuplexHandler, RemovableChannelHandler, LandingAnswerWriter {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode {
        case reading
        /// A request it does not take was read: it waits (nothing more is read) for the answers before it.
        case handingOver
        /// The decoder has the connection.
        case passing
        /// A request asked for the connection to close: nothing after it is read.
        case closing
    }

    /// Answers owed at once; past this the connection is not read until some are written.
    static let maximumOwed = 128

    private let landing: LandingChannelHandler.Landing
    private let clock: ConnectionClock
    private var mode = Mode.reading
    /// Bytes read and not yet taken: part of a request, or (handing over) what the decoder gets.
    private var unread: ByteBuffer?
    /// Answers owed, in request order.
    private var owed = Deque<LandingChannelHandler.LandingAnswer>()
    private var context: ChannelHandlerContext?
    private var listener: LandingChannelHandler.Listener?
    /// A `read` the channel asked for while reading was held.
    private var readPending = false
    private var quiescePending = false
    private let memo = LandingController.ConnectionMemo()
    private var peer: SocketAddress?

    init(landing: LandingChannelHandler.Landing, clock: ConnectionClock) {
        self.landing = landing
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        listener = landing.listeners.listener(for: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // Answers still waiting for commits hold this handler: let them go.
        for answer in owed { answer.writer = nil }
        owed.removeAll()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .passing:
            context.fireChannelRead(data)
        case .closing:
            break
        case .handingOver:
            keep(unwrapInboundIn(data))
        case .reading:
            let bytes = unwrapInboundIn(data)
            // A head that is not all here is read again only once a line of it has ended (or it is too long): a
            // client trickling a head byte by byte costs one pass over it per line, not one per byte.
            let waiting = unread?.readableBytes ?? 0
            keep(bytes)
            if waiting > 0, !bytes.readableBytesView.contains(UInt8(ascii: "\n")),
                waiting + bytes.readableBytes <= WireRequest.maximumHeadBytes
            {
                return
            }
            readRequests(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Until the decoder has the connection it has been given nothing to complete (a hand-over completes what
        // it gives): the event would only walk the handlers behind this one, 3% of a loaded event loop's time.
        if case .passing = mode { context.fireChannelReadComplete() }
    }

    private func keep(_ bytes: ByteBuffer) {
        if unread == nil {
            unread = bytes
        } else {
            var bytes = bytes
            unread!.writeBuffer(&bytes)
        }
    }

    /// Takes every whole request at the front of `unread`.
    private func readRequests(context: ChannelHandlerContext) {
        while case .reading = mode, var bytes = unread, bytes.readableBytes > 0 {
            switch WireRequest.read(bytes) {
            case .incomplete:
                return
            case .declined:
                return handOver(context: context)
            case .request(let request, let length):
                let uri = URI(request.target)
                guard !landing.routerPaths.contains(Substring(uri.path)) else { return handOver(context: context) }
                bytes.moveReaderIndex(forwardBy: length)
                unread = bytes.readableBytes > 0 ? bytes : nil
                start(request, uri: uri, context: context)
            }
        }
    }

    private func start(_ request: WireRequest, uri: URI, context: ChannelHandlerContext) {
        let staysOpen = clock.readWhole(keepAlive: request.keepAlive)
        let answer = LandingChannelHandler.LandingAnswer(started: .now, writer: self)
        owed.append(answer)
        let waits = landing.begin(
            answer, method: request.method, uri: uri, headers: request.headers,
            remoteAddress: remoteAddress(context), memo: memo, listener: listener)
        if !staysOpen {
            // The connection closes after this answer (asked for, or the server is stopping): nothing after it
            // is read.
            mode = .closing
            unread = nil
        }
        if !waits { context.eventLoop.assumeIsolated().execute { self.flush() } }
    }

    /// The connection's peer, asked of the channel (behind a lock) once.
    private func remoteAddress(_ context: ChannelHandlerContext) -> SocketAddress? {
        if let peer { return peer }
        peer = context.channel.remoteAddress
        return peer
    }

    /// From the request at the front of `unread` on, the connection is the decoder's.
    private func handOver(context: ChannelHandlerContext) {
        mode = .handingOver
        if owed.isEmpty { finishHandOver(context: context) }
    }

    private func finishHandOver(context: ChannelHandlerContext) {
        mode = .passing
        if let unread {
            self.unread = nil
            context.fireChannelRead(wrapInboundOut(unread))
            context.fireChannelReadComplete()
        }
        if readPending {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        switch mode {
        case .handingOver:
            readPending = true
        case .reading where owed.count >= Self.maximumOwed:
            readPending = true
        default:
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird closes a connection it thinks idle when told to quiesce: not while answers are owed here.
        if event is ChannelShouldQuiesceEvent, !owed.isEmpty {
            quiescePending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound

    /// Writes the answers ready at the front of the queue.
    func flush() {
        guard let context else { return }
        var wrote = false
        var date: String?
        while let answer = owed.first, answer.ready != nil {
            owed.removeFirst()
            let reply = answer.ready.take()!
            answer.writer = nil
            let closes = clock.closesAfterNextAnswer
            if date == nil { date = HTTPDate.now() }
            let bytes = encode(reply, date: date!, closes: closes, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(bytes), promise: nil)
            wrote = true
            landing.metrics.request(group: "landing", status: reply.status.code, duration: .now - answer.started)
            if clock.answered() {
                context.flush()
                context.close(promise: nil)
                return
            }
        }
        if wrote { context.flush() }
        guard owed.isEmpty else { return }
        if case .handingOver = mode { finishHandOver(context: context) }
        if quiescePending {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readPending, case .reading = mode {
            readPending = false
            context.read()
        }
    }

    /// An answer as NIO's HTTP/1 encoder writes it, with the Date and Server fields every answer has and, when the
    /// connection closes after it, `connection: close` (as `MessageObserver` adds it).
    private func encode(
        _ reply: LandingChannelHandler.LandingAnswer.Reply, date: String, closes: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var bytes = allocator.buffer(capacity: 512 + reply.body.readableBytes)
        reply.fields.write(into: &bytes)
        bytes.writeField("Date", date)
        bytes.writeField("Server", landing.serverName)
        if closes { bytes.writeStaticString("connection: close\r\n") }
        bytes.writeStaticString("\r\n")
        var body = reply.body
        bytes.writeBuffer(&body)
        return bytes
    }
}
