import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// How long a client may take, at each point of a connection, before the connection is closed.
public struct ClientLimits: Sendable, Equatable {
    /// A keep-alive connection with no request in progress.
    public var idle: TimeAmount
    /// From the first byte of a request (or the connection's opening) to the end of its headers.
    public var header: TimeAmount
    /// Between two pieces of a request body.
    public var body: TimeAmount
    /// What a request still being read is given once the server is told to stop.
    public var drain: TimeAmount = .seconds(5)

    public init(idle: TimeAmount, header: TimeAmount, body: TimeAmount) {
        self.idle = idle
        self.header = header
        self.body = body
    }
}

/// Hummingbird's HTTP/1 channel with deadlines for slow and idle clients, and HTTP/1.0 and `Connection: close`
/// honoured (the connection is closed once the answer is written). Hummingbird offers an idle timeout only:
/// it does not see a request's headers trickle in, nor a body stop flowing.
struct LimitedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ClientLimits
    /// Handlers that take NIO's HTTP/1 parts ahead of the conversion to HTTP types (the landing handler).
    var landing: @Sendable () -> [any RemovableChannelHandler] = { [] }
    /// A handler that takes the connection's bytes ahead of the HTTP/1 decoder (the landing fast path).
    var landingBytes: (@Sendable (ConnectionClock) -> any ChannelHandler)? = nil

    var responder: Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let clock = ConnectionClock(limits: limits)
            let pipeline = channel.pipeline.syncOperations
            // Ahead of the HTTP decoder, to see a request's first bytes; and ahead of the conversion to HTTP types,
            // to see the request's HTTP version and Connection header.
            try pipeline.addHandler(clock.bytesObserver, position: .first)
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(clock.messageObserver, position: .before(codec))
            // Behind the observer, so that it sees their requests and answers too.
            for handler in landing() { try pipeline.addHandler(handler, position: .before(codec)) }
            // Behind TLS (when there is TLS), ahead of NIO's HTTP/1 encoder and decoder (in that order).
            if let landingBytes {
                let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
                try pipeline.addHandler(landingBytes(clock), position: .before(encoder))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// One connection's deadline, moved by what the connection does. Lives on the channel's event loop.
final class ConnectionClock {
    private enum Phase {
        /// No request in progress (the idle deadline), or a request's first bytes in (the header deadline).
        case waiting(headStarted: Bool)
        case readingBody
        /// Every request read is being answered: no deadline of the client's.
        case answering
    }

    let limits: ClientLimits
    private var phase = Phase.waiting(headStarted: true)
    /// For each request read and not yet answered, in order: whether its connection stays open after the answer.
    private var keepAlive: [Bool] = []
    /// When the connection is closed unless the client moves on; nil while the server is answering.
    private var due: NIODeadline?
    /// The one timer that checks `due`: it fires no later than `due` and re-arms itself when `due` moved on. A
    /// deadline moved later (every request moves it several times) costs no timer work.
    private var timer: (at: NIODeadline, task: Scheduled<Void>)?
    private var context: ChannelHandlerContext?
    private var quiescing = false

    init(limits: ClientLimits) {
        self.limits = limits
    }

    var bytesObserver: BytesObserver { BytesObserver(clock: self) }
    var messageObserver: MessageObserver { MessageObserver(clock: self) }

    fileprivate func start(_ context: ChannelHandlerContext) {
        self.context = context
        // A new connection owes its first request's headers from the start.
        schedule(limits.header)
    }

    fileprivate func stop() {
        timer?.task.cancel()
        timer = nil
        due = nil
        context = nil
    }

    fileprivate func bytesArrived() {
        if case .waiting(headStarted: false) = phase {
            phase = .waiting(headStarted: true)
            schedule(limits.header)
        }
    }

    fileprivate func read(_ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            expectAnswer(keepAlive: head.isKeepAlive)
            phase = .readingBody
            schedule(bodyDeadline)
        case .body:
            schedule(bodyDeadline)
        case .end:
            if keepAlive.isEmpty {
                // Answered before its body was all read (a refused upload): the connection is idle already.
                phase = .waiting(headStarted: false)
                schedule(limits.idle)
            } else {
                phase = .answering
                cancel()
            }
        }
    }

    /// A whole request without a body, read ahead of the HTTP decoder (the landing fast path); returns whether the
    /// connection stays open after its answer.
    func readWhole(keepAlive requested: Bool) -> Bool {
        let staysOpen = expectAnswer(keepAlive: requested)
        phase = .answering
        cancel()
        return staysOpen
    }

    /// Notes a request to be answered; returns whether the connection stays open after its answer (not once the
    /// server is stopping).
    @discardableResult
    private func expectAnswer(keepAlive requested: Bool) -> Bool {
        let staysOpen = requested && !quiescing
        keepAlive.append(staysOpen)
        return staysOpen
    }

    /// Whether the connection is to be closed once this answer is written.
    func answered() -> Bool {
        let keepOpen = keepAlive.isEmpty ? true : keepAlive.removeFirst()
        if keepAlive.isEmpty, case .answering = phase {
            phase = .waiting(headStarted: false)
            schedule(limits.idle)
        }
        return !keepOpen
    }

    /// Whether the answer being written is the last on this connection.
    var closesAfterNextAnswer: Bool { keepAlive.first == false }

    fileprivate func quiesce() {
        quiescing = true
        switch phase {
        case .waiting: context?.close(promise: nil)
        case .readingBody: schedule(bodyDeadline)
        case .answering: break
        }
    }

    /// Between two pieces of a body; shorter once the server is stopping.
    private var bodyDeadline: TimeAmount { quiescing ? min(limits.body, limits.drain) : limits.body }

    private func schedule(_ delay: TimeAmount) {
        let at = NIODeadline.now() + delay
        due = at
        if let timer, timer.at <= at { return }
        arm(at)
    }

    private func arm(_ at: NIODeadline) {
        timer?.task.cancel()
        timer = nil
        guard let context else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [weak self] () -> Void in
            self?.timerFired()
        }
        timer = (at, task)
    }

    private func cancel() {
        due = nil
    }

    private func timerFired() {
        timer = nil
        guard let due else { return }
        if due <= .now() {
            self.due = nil
            context?.close(promise: nil)
        } else {
            arm(due)
        }
    }
}

/// First in the pipeline: notices the first bytes of a request on an idle keep-alive connection.
final class BytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let clock: ConnectionClock

    init(clock: ConnectionClock) {
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        clock.start(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        clock.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived()
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { clock.quiesce() }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Between the HTTP/1 codec and the conversion to HTTP types: follows requests and answers.
final class MessageObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let clock: ConnectionClock

    init(clock: ConnectionClock) {
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.read(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where clock.closesAfterNextAnswer:
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            if clock.answered() {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
            } else {
                context.write(data, promise: promise)
            }
        default:
            context.write(data, promise: promise)
        }
    }
}
