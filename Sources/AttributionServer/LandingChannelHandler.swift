import AttributionCore
import AttributionStore
import DequeModule
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The landing path without a Swift task per request, for connections the fast path (`LandingFastPath`, ahead of
/// the HTTP/1 codec) has handed over: placed after NIO's HTTP/1 codec and ahead of Hummingbird's
/// conversion to HTTP types (`HTTP1ToHTTPServerCodec`; Hummingbird's `additionalChannelHandlers` come after that
/// conversion, which cost a landing request a tenth of its event loop time both ways), it answers every GET and
/// HEAD the landing controller would (a configured slug, or the 404 of any other path the router does not serve)
/// from the event loop, once the visit's group commit is on disk; every other request flows on, through the
/// conversion, to Hummingbird's router unchanged. Answers leave in request order: while a request is with the router, landing
/// answers wait behind it; while a landing request waits for its commit, the next request for the router is held
/// (and no more is read) until the answers before it are written.
final class LandingChannelHandler: ChannelDuplexHandler, RemovableChannelHandler, LandingAnswerWriter {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What decides which requests are the landing controller's, and how they are answered.
    struct Landing: Sendable {
        let controller: LandingController
        let routerPaths: RouterPaths
        let metrics: ServiceMetrics
        let serverName: String
        let logger: Logger
        let listeners = LoopListeners()
    }

    /// One visit-commit listener per event loop: a commit wakes each loop once, for all of its answers.
    final class LoopListeners: Sendable {
        private let byLoop = NIOLockedValueBox<[ObjectIdentifier: Listener]>([:])

        func listener(for eventLoop: any EventLoop) -> Listener {
            byLoop.withLockedValue { byLoop in
                if let listener = byLoop[ObjectIdentifier(eventLoop)] { return listener }
                let listener = Listener(eventLoop: eventLoop)
                byLoop[ObjectIdentifier(eventLoop)] = listener
                return listener
            }
        }
    }

    final class Listener: VisitCommitListener {
        let eventLoop: any EventLoop

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }

        func committed(_ tickets: [AnyObject], result: Result<Void, any Error>) {
            // The tickets are this loop's answers, touched only on it.
            let answers = UnsafeTransfer(tickets)
            eventLoop.execute {
                for ticket in answers.value {
                    let answer = unsafeDowncast(ticket, to: LandingAnswer.self)
                    answer.ready = answer.prepared.take()
                    answer.writer?.flush()
                }
            }
        }
    }

    private struct UnsafeTransfer<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// The paths the router answers GET and HEAD on; every other GET or HEAD is a landing request.
    struct RouterPaths: Sendable {
        let exact: Set<String>
        let prefixes: [String]

        func contains(_ path: Substring) -> Bool {
            exact.contains(String(path)) || prefixes.contains { path.hasPrefix($0) }
        }
    }

    private enum Slot {
        /// A landing request: its answer once the visit is committed (or known not to be).
        case landing(LandingAnswer)
        /// A request for the router; `held` are its parts while answers before it are still owed.
        case router(held: [HTTPServerRequestPart]?)
    }

    /// A landing request's answer: written once `ready`. Its visit's ticket while the commit is pending.
    final class LandingAnswer {
        /// What is sent: status and header fields (Date and Server are added when it is written), and body.
        struct Reply {
            var fields: LandingController.AnswerFields
            var body: ByteBuffer

            var status: HTTPResponse.Status { fields.fixed.status }
        }

        var ready: Reply?
        /// The answer to give once the visit is committed.
        var prepared: Reply?
        let started: ContinuousClock.Instant
        /// Kept while the answer is owed; nil once the connection's handler is gone.
        var writer: (any LandingAnswerWriter)?

        init(started: ContinuousClock.Instant, writer: any LandingAnswerWriter) {
            self.started = started
            self.writer = writer
        }
    }

    private let landing: Landing
    /// Requests read and not yet fully answered, oldest first.
    private var slots = Deque<Slot>()
    /// The request being read now: landing (its body is dropped) or the router's (its parts go on or are held).
    private var reading: Slot?
    private var context: ChannelHandlerContext?
    /// A `read` the channel asked for while a router request was held.
    private var readPending = false
    private var quiescePending = false
    private var listener: Listener?
    private let memo = LandingController.ConnectionMemo()

    init(landing: Landing) {
        self.landing = landing
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        listener = landing.listeners.listener(for: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // Answers still waiting for commits hold this handler: let them go.
        for case .landing(let answer) in slots { answer.writer = nil }
        slots.removeAll()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            if let answer = startLanding(request, context: context) {
                slots.append(.landing(answer))
                reading = .landing(answer)
            } else {
                // With answers still owed before it, the router's request waits (and nothing more is read).
                let holds = !slots.isEmpty
                slots.append(.router(held: holds ? [part] : nil))
                reading = .router(held: nil)
                if !holds { context.fireChannelRead(data) }
            }
        case .body, .end:
            switch reading {
            case .landing:
                break  // a GET's body is not read by the landing path
            case .router:
                if let index = lastRouterSlotHeld() {
                    if case .router(var held?) = slots[index] {
                        held.append(part)
                        slots[index] = .router(held: held)
                    }
                } else {
                    context.fireChannelRead(data)
                }
            case nil:
                context.fireChannelRead(data)
            }
            if case .end = part { reading = nil }
        }
    }

    func read(context: ChannelHandlerContext) {
        if slots.contains(where: { if case .router(held: _?) = $0 { true } else { false } }) {
            readPending = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird closes an idle connection when told to quiesce: not while landing answers are owed.
        if event is ChannelShouldQuiesceEvent, slots.contains(where: { if case .landing = $0 { true } else { false } }) {
            quiescePending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The index of the router slot being read, when its parts are held.
    private func lastRouterSlotHeld() -> Int? {
        guard let index = slots.lastIndex(where: { if case .router = $0 { true } else { false } }),
            case .router(held: _?) = slots[index]
        else { return nil }
        return index
    }

    /// Decides a landing request and submits its visit; nil when the request is the router's.
    private func startLanding(_ request: HTTPRequestHead, context: ChannelHandlerContext) -> LandingAnswer? {
        let method: HTTPRequest.Method
        switch request.method {
        case .GET: method = .get
        case .HEAD: method = .head
        default: return nil
        }
        let uri = URI(request.uri)
        guard !landing.routerPaths.contains(Substring(uri.path)) else { return nil }
        let answer = LandingAnswer(started: .now, writer: self)
        let waits = landing.begin(
            answer, method: method, uri: uri, headers: request.headers, remoteAddress: context.channel.remoteAddress,
            memo: memo, listener: listener)
        if !waits { context.eventLoop.assumeIsolated().execute { self.flush() } }
        return answer
    }

    /// An answer's head as NIO's HTTP/1 encoder takes it, with the Date and Server headers every answer has.
    private static func head(_ reply: LandingAnswer.Reply, serverName: String) -> HTTPResponseHead {
        var fields = HTTPHeaders(reply.fields.pairs)
        fields.add(name: "Date", value: HTTPDate.now())
        fields.add(name: "Server", value: serverName)
        return HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: reply.status.code, reasonPhrase: reply.status.reasonPhrase),
            headers: fields)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's request at the front of the queue is being answered by the router.
        context.write(data, promise: promise)
        if case .end = unwrapOutboundIn(data), case .router = slots.first {
            slots.removeFirst()
            flush()
        }
    }

    /// Writes the answers that are ready at the front of the queue, then lets a held router request go on.
    func flush() {
        guard let context else { return }
        var wrote = false
        while let first = slots.first {
            switch first {
            case .landing(let answer):
                guard let reply = answer.ready else { return finishFlush(context, wrote: wrote) }
                slots.removeFirst()
                answer.writer = nil
                context.write(wrapOutboundOut(.head(Self.head(reply, serverName: landing.serverName))), promise: nil)
                if reply.body.readableBytes > 0 {
                    context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
                }
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                wrote = true
                landing.metrics.request(group: "landing", status: reply.status.code, duration: .now - answer.started)
            case .router(let held):
                if let held {
                    slots[0] = .router(held: nil)
                    for part in held { context.fireChannelRead(wrapInboundOut(part)) }
                    // Hummingbird's async channel hands reads on at the end of a read burst.
                    context.fireChannelReadComplete()
                    if readPending {
                        readPending = false
                        context.read()
                    }
                }
                return finishFlush(context, wrote: wrote)
            }
        }
        finishFlush(context, wrote: wrote)
    }

    private func finishFlush(_ context: ChannelHandlerContext, wrote: Bool) {
        if wrote { context.flush() }
        if quiescePending, !slots.contains(where: { if case .landing = $0 { true } else { false } }) {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }
}

/// Writes a connection's landing answers once they are ready: told on the connection's event loop.
protocol LandingAnswerWriter: AnyObject {
    func flush()
}

extension LandingChannelHandler.Landing {
    /// Decides a landing request and submits its visit to the writer, with `answer` as its ticket; returns whether
    /// the answer waits for the visit's commit (false: it is ready now, with nothing to wait for).
    func begin(
        _ answer: LandingChannelHandler.LandingAnswer, method: HTTPRequest.Method, uri: URI,
        headers: some LandingHeaders, remoteAddress: SocketAddress?, memo: LandingController.ConnectionMemo,
        listener: LandingChannelHandler.Listener?
    ) -> Bool {
        let decision: LandingController.Decision
        do {
            decision = try controller.decide(
                method: method, path: uri.path, query: uri.query, headers: headers, remoteAddress: remoteAddress,
                memo: memo)
        } catch {
            logger.error("landing answer failed: \(error)")
            answer.ready = .init(
                fields: .init(fixed: LandingController.failedFields, contentLength: 0), body: ByteBuffer())
            return false
        }
        let reply = LandingChannelHandler.LandingAnswer.Reply(fields: decision.fields, body: decision.body)
        if let visit = decision.visit, let listener, controller.recorder.record(visit, listener: listener, ticket: answer) {
            answer.prepared = reply
            return true
        }
        // Nothing to wait for (an orphan over its allowance, or a visit that could not be queued).
        answer.ready = reply
        return false
    }
}

/// `Date` header values, formatted once a second.
enum HTTPDate {
    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
    private static let cache = NIOLockedValueBox<(second: Int, text: String)>((0, ""))

    static func now() -> String {
        let second = Int(Date().timeIntervalSince1970)
        return cache.withLockedValue { cached in
            if cached.second != second { cached = (second, formatter.string(from: Date(timeIntervalSince1970: Double(second)))) }
            return cached.text
        }
    }
}
