import HTTPServer
import HTTPTypes
import Logging
import Postgres

/// What a `/v1` handler gets: the request, the authenticated client, and the
/// database connection the request holds from start to end.
struct ConnectorCall {
    let request: Request
    let client: AuthenticatedClient
    let connection: PostgresConnection
    let requestID: String
    /// `METHOD /route/template`, as recorded in sync errors.
    let operation: String
    let parameters: PathParameters

    /// A path parameter the route template is known to have.
    func parameter(_ name: String) throws -> String {
        try parameters.require(name)
    }
}

/// Wraps `/v1` handlers: one pooled connection per request, HTTP Basic
/// authentication on it, the client's rate limit (429), database failures
/// turned into 503s, and rejected writes recorded as sync errors for the admins.
struct ConnectorEndpoint {
    let database: PostgresConnectionPool
    /// nil: no rate limiting.
    var rateLimiter: ClientRateLimiter? = nil
    /// How many batches of saves run at once (``SaveBatch``); 0: every save alone.
    var saveLanes = 0
    /// How long a lane waits for more saves under load (``Batcher/Settings/gatherTime``).
    var saveBatchWait: Duration = .zero
    /// The bounds on saves waiting for a lane.
    var saveQueue = ReceiverService.SaveQueueLimits()
    /// Where work done outside any request (a batch of saves) logs.
    var logger = Logger(label: "connector-receiver")

    typealias Handler = @Sendable (ConnectorCall) throws -> Response

    /// A read: no sync error bookkeeping.
    func read(_ handler: @escaping Handler) -> RequestHandler {
        wrap(recordsSyncErrors: nil, handler)
    }

    /// A write to `resource`: a 4xx other than 401/404 is recorded as a sync error.
    func write(_ resource: SyncErrorResource, _ handler: @escaping Handler) -> RequestHandler {
        wrap(recordsSyncErrors: resource, handler)
    }

    private func wrap(recordsSyncErrors resource: SyncErrorResource?, _ handler: @escaping Handler) -> RequestHandler {
        { [database, rateLimiter] request, context in
            let operation = "\(request.method.rawValue) \(context.routeTemplate)"
            let requestID = context.requestID
            let parameters = context.parameters
            do {
                return try database.withConnection { connection in
                    let client = try ClientAuthenticator.authenticate(request, on: connection)
                    if let rateLimiter, case .limited(let seconds) = rateLimiter.admit(client.clientId) {
                        throw Problem.rateLimited(clientId: client.clientId, settings: rateLimiter.settings, retryAfterSeconds: seconds)
                    }
                    let call = ConnectorCall(request: request, client: client, connection: connection, requestID: requestID, operation: operation, parameters: parameters)
                    do {
                        return try handler(call)
                    } catch let problem as Problem {
                        if let resource, SyncErrors.isRecorded(problem.status.code) {
                            SyncErrors.record(problem, resource: resource, call: call)
                        }
                        throw problem
                    }
                }
            } catch let error as PostgresError {
                if let problem = Problem.from(error) { throw problem }
                throw error
            }
        }
    }
}
