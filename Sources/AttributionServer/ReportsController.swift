import AttributionCore
import AttributionStore
import Hummingbird

/// `GET /api/v1/reports/*`: the rows of `clickattr report`, streamed, behind an API key.
struct ReportsController {
    let keys: APIKeys
    let store: any Store
    let windowDays: Int

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/api/v1/reports/clicks", use: clicks)
    }

    @Sendable func clicks(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard keys.accepts(APIKeys.bearer(request.headers)) else { return APIKeys.unauthorized() }
        let parameters = request.uri.queryParameters
        let report: Reports.Request
        do {
            report = try Reports.Request(
                from: parameters["from"].map(String.init), to: parameters["to"].map(String.init),
                format: parameters["format"].map(String.init), windowDays: windowDays)
        } catch {
            return .json(.object(["error": .string(error.description)]), status: .badRequest)
        }
        let store = self.store
        return Response(
            status: .ok,
            headers: [.contentType: report.format.contentType, .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await Reports.clicks(store: store, request: report) { chunk in
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
    }
}
