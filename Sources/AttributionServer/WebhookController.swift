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

    let verifyToken: String
    let signature: WebhookSignature
    let ingestor: WebhookIngestor

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
        let buffer = try await request.body.collect(upTo: Self.maximumBodyBytes)
        let body = Array(buffer: buffer)
        do {
            try signature.verify(body: body, header: request.headers[.xHubSignature256])
        } catch {
            context.logger.warning("webhook delivery refused: \(error.description)")
            return .plainText("\(error.description)\n", status: .unauthorized)
        }
        do {
            let result = try await ingestor.ingest(body: body, source: .http)
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
            var response = Response.plainText("delivery not stored, retry later\n", status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        }
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
            headers: [
                .contentType: "text/plain; charset=utf-8", .cacheControl: "no-store",
                .xContentTypeOptions: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}
