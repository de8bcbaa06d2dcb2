import AttributionCore
import AttributionStore
import Hummingbird

/// `GET /api/v1/reports/*`: the rows of `clickattr report`, streamed, behind an API key.
struct ReportsController {
    /// A bearer key, or the dashboard's session cookie (its download links).
    let access: ReportAccess
    let store: any Store
    let windowMilliseconds: Int64

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/api/v1/reports/clicks") { request, _ in
            try respond(request) { store, report, _, write in
                try await Reports.clicks(store: store, request: report, write: write)
            }
        }
        router.get("/api/v1/reports/summary") { request, _ in
            try respond(request) { store, report, groupBy, write in
                try await Reports.summary(store: store, request: report, groupBy: groupBy, write: write)
            }
        }
    }

    /// Checks the key and the parameters, then streams what `produce` writes.
    private func respond(
        _ request: Request,
        produce: @escaping @Sendable (any Store, Reports.Request, [SummaryReport.Key], (String) async throws -> Void)
            async throws -> Int
    ) throws -> Response {
        guard access.allows(request) else { return APIKeys.unauthorized() }
        let parameters = request.uri.queryParameters
        let report: Reports.Request
        let groupBy: [SummaryReport.Key]
        do {
            report = try Reports.Request(
                from: parameters["from"].map(String.init), to: parameters["to"].map(String.init),
                format: parameters["format"].map(String.init), windowMilliseconds: windowMilliseconds)
            groupBy = try Reports.groupKeys(parameters["group_by"].map(String.init))
        } catch {
            return .json(.object(["error": .string(error.description)]), status: .badRequest)
        }
        let store = self.store
        return Response(
            status: .ok,
            headers: SecurityHeaders.fields(contentType: report.format.contentType),
            body: ResponseBody { writer in
                _ = try await produce(store, report, groupBy) { chunk in
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
    }
}
