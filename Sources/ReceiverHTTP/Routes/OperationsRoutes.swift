import HTTPServer
import HTTPTypes
import Postgres
import ReceiverCore

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.yaml`: no authentication.
struct OperationsRoutes {
    let database: PostgresConnectionPool
    let renderMetrics: @Sendable () -> [UInt8]
    let openAPIDocument: [UInt8]?

    static let healthBody = Array(#"{"status":"ok"}"#.utf8)
    static let readyBody = Array(#"{"status":"ready"}"#.utf8)

    func register(in router: inout Router) {
        // Process liveness only: answered on the I/O thread, never touches the database.
        router.get("/healthz", options: .inline) { _, _ in
            .json(Self.healthBody)
        }

        router.get("/readyz") { [database] _, context in
            do {
                try database.withConnection { try DatabaseReadiness.check(on: $0) }
                return .json(Self.readyBody)
            } catch {
                let problem = (error as? ReceiverError).map(Problem.init)
                    ?? Problem.databaseUnavailable(detail: "The database is unreachable; the receiver is not ready.")
                context.logger.warning("not ready", metadata: ["reason": "\(problem.detail ?? "")", "error": "\(error)"])
                throw problem
            }
        }

        // Rendered from memory, never blocks: answered on the I/O thread so a scrape gets
        // through however busy the workers are (overload is when metrics matter most).
        router.get("/metrics", options: .inline) { [renderMetrics] _, _ in
            var response = Response(status: .ok, body: renderMetrics())
            response.headerFields[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        }

        if let document = openAPIDocument {
            router.get("/openapi.yaml", options: .inline) { _, _ in
                var response = Response(status: .ok, body: document)
                response.headerFields[.contentType] = "application/yaml"
                return response
            }
        }
    }
}
