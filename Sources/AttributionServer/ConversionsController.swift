import AttributionCore
import AttributionStore
import Hummingbird
import Logging

/// Conversions reported back by the business: a server-to-server JSON API and a postback URL.
struct ConversionsController {
    static let maximumBodyBytes = 64 * 1024

    let keys: APIKeys
    let store: any Store
    let windowMilliseconds: Int64
    let now: @Sendable () -> Int64
    let metrics: ServiceMetrics
    /// Waits until the visits answered so far are in the database (they may still be in the spool).
    let visitsCaughtUp: @Sendable () async -> Void

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/api/v1/conversions", use: post)
        router.get("/api/v1/postback", use: postback)
    }

    @Sendable func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard keys.accepts(APIKeys.bearer(request.headers)) else { return APIKeys.unauthorized() }
        let body = try await request.body.collect(upTo: Self.maximumBodyBytes)
        guard case .object(let object)? = try? JSONParser.parse(Array(buffer: body)) else {
            return Self.invalid("the body must be a JSON object")
        }
        var fields: [String: String] = [:]
        for (name, value) in object {
            switch value {
            case .null: continue
            case .string, .number: fields[name] = value.scalarText
            default: return Self.invalid("\(name) must be text or a number")
            }
        }
        return try await record(fields, source: .api, logger: context.logger)
    }

    @Sendable func postback(_ request: Request, context: AppRequestContext) async throws -> Response {
        var fields: [String: String] = [:]
        var notText: String?
        for pair in QueryString.parse(Substring(request.uri.query ?? "")) where fields[pair.name] == nil {
            guard let value = pair.value else {
                notText = notText ?? pair.name
                continue
            }
            fields[pair.name] = value
        }
        guard keys.accepts(fields.removeValue(forKey: "key")) else { return APIKeys.unauthorized() }
        if let notText { return Self.invalid("\(notText) is not UTF-8 text once its percent-escapes are decoded") }
        return try await record(fields, source: .postback, logger: context.logger)
    }

    private func record(_ fields: [String: String], source: Conversion.Source, logger: Logger) async throws -> Response {
        let conversion: Conversion
        switch Conversion.validate(fields, source: source, now: now()) {
        case .success(let valid): conversion = valid
        case .failure(let invalid):
            metrics.conversion(result: "invalid", source: source.rawValue)
            return Self.invalid(invalid.description)
        }
        // A conversion that names its visitor is joined to the visitor's latest visit: one answered a moment
        // ago may still be on its way from the spool.
        if conversion.clickID == nil, conversion.visitorID != nil { await visitsCaughtUp() }
        let outcome: ConversionOutcome
        do {
            outcome = try await store.recordConversion(conversion, receivedAt: now(), lookback: windowMilliseconds)
        } catch {
            // Not stored, so not acknowledged: the caller retries (the same order id is stored once).
            logger.error("conversion not stored: \(error)")
            metrics.conversion(result: "not_stored", source: source.rawValue)
            var response = Response.json(.object(["error": .string("the conversion was not stored; retry later")]), status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        }
        metrics.conversion(result: outcome.created ? "created" : "duplicate", source: source.rawValue)
        return .json(
            .object([
                "status": .string(outcome.created ? "created" : "duplicate"),
                "click_id": outcome.clickID.map(JSONValue.string) ?? .null,
            ]),
            status: outcome.created ? .created : .ok)
    }

    static func invalid(_ reason: String) -> Response {
        .json(.object(["error": .string(reason)]), status: .unprocessableContent)
    }
}
