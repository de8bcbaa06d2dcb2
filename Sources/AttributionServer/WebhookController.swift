import AttributionCore
import AttributionStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Meta's webhook: the subscription handshake (GET) and signed deliveries (POST).
struct WebhookController {
    /// Meta's deliveries are at most 3 MB; anything past 4 MiB is refused unread.
    static let maximumBodyBytes = 4 * 1024 * 1024

    /// What all deliveries being received, parsed or stored at once may hold together. Each takes three times its
    /// body's size before the body is read: the body, and the actions parsed from it, which take about twice
    /// its size until they are committed (more for bodies of very small actions: that excess is overdrawn).
    static let bodyBudgetBytes = 32 * 1024 * 1024
    static let reservedPerBodyByte = 3
    /// After deliveries this large together, free memory is handed back to the system.
    static let trimAfterBytes = 1024 * 1024
    /// How long a delivery waits for room in that budget (its body unread) before it is answered 503.
    static let budgetPatience = Duration.seconds(20)

    let verifyToken: String
    let signature: WebhookSignature
    let ingestor: WebhookIngestor
    let metrics: ServiceMetrics
    let bodies = ByteBudget(limit: Self.bodyBudgetBytes)
    /// A body's parse tree is several times its size: two at a time keep the cores busy and memory bounded.
    let parsing = ConcurrencyLimit(width: 2)

    func addRoutes(to router: Router<AppRequestContext>, path: String) {
        router.get(RouterPath(path), use: verify)
        router.post(RouterPath(path), use: receive)
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard !verifyToken.isEmpty, query["hub.mode"] == "subscribe",
            let token = query["hub.verify_token"], String(token) == verifyToken,
            let challenge = query["hub.challenge"]
        else {
            return .plainText("verification failed\n", status: .forbidden)
        }
        return .plainText(String(challenge), status: .ok)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        // Nothing is read from a request that cannot be authentic: no secret, no or malformed signature header.
        var verifier: WebhookSignature.Verifier
        do {
            verifier = try signature.begin(header: request.headers[.xHubSignature256])
        } catch {
            return refused(error, context: context)
        }
        let announced = request.headers[.contentLength].flatMap { Int($0) }
        if let announced, announced > Self.maximumBodyBytes {
            return Self.tooLarge
        }
        // The whole announced body is taken from the budget before a byte of it is read.
        var taken = 0
        defer {
            // Once the last of a burst of large deliveries is done, free memory goes back to the system.
            if bodies.giveBack(taken), bodies.returned >= Self.trimAfterBytes {
                bodies.resetReturned()
                MemoryReturn.trim()
            }
        }
        if let announced, announced > 0 {
            guard await bodies.take(Self.reservedPerBodyByte * announced, waitingUpTo: Self.budgetPatience) else {
                return busy(context: context)
            }
            taken = Self.reservedPerBodyByte * announced
        }
        var body: [UInt8] = []
        body.reserveCapacity(announced ?? 0)
        for try await chunk in request.body {
            guard body.count + chunk.readableBytes <= Self.maximumBodyBytes else {
                return Self.tooLarge
            }
            let beyond = Self.reservedPerBodyByte * (body.count + chunk.readableBytes) - taken
            if beyond > 0 {
                // A body without a length (chunked) is taken as it comes, and refused rather than waited for.
                guard bodies.take(beyond) else {
                    return busy(context: context)
                }
                taken += beyond
            }
            verifier.update(chunk.readableBytesView)
            body.append(contentsOf: chunk.readableBytesView)
        }
        do {
            try verifier.verify()
        } catch {
            return refused(error, context: context)
        }
        do {
            // Only the parse is limited: waiting for the commit holds little memory and must not hold a slot.
            let prepared = try await parsing.run { [body] in try ingestor.prepare(body: body, source: .http) }
            // The actions wait for their commit beside the body.
            let excess = body.count + prepared.actionBytes - taken
            if excess > 0 {
                bodies.overdraw(excess)
                taken += excess
            }
            let result = try await ingestor.store(prepared)
            count(prepared, result)
            context.logger.debug(
                "webhook delivery stored",
                metadata: [
                    "new_actions": "\(result.outcome.storedActions)",
                    "duplicate_actions": "\(result.outcome.duplicateActions)",
                ])
            return .plainText("EVENT_RECEIVED\n", status: .ok)
        } catch let error as WebhookPayload.ParseError {
            return .plainText("\(error.description)\n", status: .badRequest)
        } catch {
            // Not stored, so not acknowledged: Meta retries for up to 7 days.
            context.logger.error("webhook delivery not stored: \(error)")
            return Self.retryLater("delivery not stored, retry later\n")
        }
    }

    private func count(_ prepared: WebhookIngestor.Prepared, _ result: WebhookIngestor.Result) {
        metrics.delivery(new: result.outcome.newDelivery)
        var types: [String: Int] = [:]
        for action in prepared.delivery.actions { types[action.actionType, default: 0] += 1 }
        for (type, count) in types { metrics.actions(type: type, count: count) }
        metrics.actionsStored(stored: result.outcome.storedActions, duplicate: result.outcome.duplicateActions)
        if result.rejectedActions > 0 { metrics.malformedActions(result.rejectedActions) }
    }

    /// The budget has no room: Meta retries later.
    private func busy(context: AppRequestContext) -> Response {
        context.logger.warning("webhook delivery refused: too many deliveries being received at once")
        return Self.retryLater("too many deliveries at once, retry later\n")
    }

    static var tooLarge: Response {
        .plainText("the body is over \(maximumBodyBytes) bytes\n", status: .contentTooLarge)
    }

    private func refused(_ error: WebhookSignature.Failure, context: AppRequestContext) -> Response {
        metrics.signatureFailure()
        context.logger.warning("webhook delivery refused: \(error.description)")
        return .plainText("\(error.description)\n", status: .unauthorized)
    }

    static func retryLater(_ text: String) -> Response {
        var response = Response.plainText(text, status: .serviceUnavailable)
        response.headers[.retryAfter] = "5"
        return response
    }
}

extension HTTPField.Name {
    static let xHubSignature256 = Self("X-Hub-Signature-256")!
}

extension Response {
    /// A short text answer; never cached, never sniffed as HTML.
    static func plainText(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: SecurityHeaders.fields(contentType: "text/plain; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

