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

    /// Bodies of all deliveries being received at once, together: 16 of Meta's largest fit.
    static let bodyBudgetBytes = 64 * 1024 * 1024

    let verifyToken: String
    let signature: WebhookSignature
    let ingestor: WebhookIngestor
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
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maximumBodyBytes {
            return .plainText("the body is over \(Self.maximumBodyBytes) bytes\n", status: .contentTooLarge)
        }
        var body: [UInt8] = []
        defer { bodies.giveBack(body.count) }
        for try await chunk in request.body {
            guard body.count + chunk.readableBytes <= Self.maximumBodyBytes else {
                return .plainText("the body is over \(Self.maximumBodyBytes) bytes\n", status: .contentTooLarge)
            }
            guard bodies.take(chunk.readableBytes) else {
                context.logger.warning("webhook delivery refused: too many bodies being received at once")
                return Self.retryLater("too many deliveries at once, retry later\n")
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
            let result = try await ingestor.store(prepared)
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

    private func refused(_ error: WebhookSignature.Failure, context: AppRequestContext) -> Response {
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

