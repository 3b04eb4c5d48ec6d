import HTTPServer
import HTTPTypes
import Logging
import Postgres
import ReceiverCore

/// What an `/admin/v1` handler gets: the request, its id (for the audit trail
/// and the log), its path parameters, and the pool to borrow a connection from.
struct AdminCall {
    let request: Request
    let requestID: String
    let parameters: PathParameters
    let database: PostgresConnectionPool
    let logger: Logger
    /// `admin-token` (bearer) or `admin-console` (a console session): see ``AdminAccess``.
    var actor = AdminAccess.tokenActor

    /// Every admin API change is made by the holder of the admin token, directly or through the console.
    var audit: AuditContext { AuditContext(actor: actor, requestId: requestID) }

    /// A path parameter the route template is known to have.
    func parameter(_ name: String) throws -> String {
        try parameters.require(name)
    }

    /// Runs `body` on a pooled connection, returned as soon as `body` ends (so
    /// `verify` can call out without holding one).
    func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try database.withConnection(body)
    }

    /// One notice line per change, with the request id; never a secret.
    func logChange(_ action: String, clientId: String, _ metadata: Logger.Metadata = [:]) {
        var fields = metadata
        fields["action"] = .string(action)
        fields["client-id"] = .string(clientId)
        logger.notice("admin change", metadata: fields)
    }
}

/// Wraps `/admin/v1` handlers: the bearer token first (before the database is
/// touched) or the console's session cookie, then database failures turned into 503s.
struct AdminEndpoint {
    let database: PostgresConnectionPool
    let authenticator: AdminAuthenticator

    typealias Handler = @Sendable (AdminCall) throws -> Response

    func handler(_ handler: @escaping Handler) -> RequestHandler {
        { [database, authenticator] request, context in
            let actor = try AdminAccess.authenticate(request, token: authenticator, database: database)
            let call = AdminCall(
                request: request, requestID: context.requestID, parameters: context.parameters,
                database: database, logger: context.logger, actor: actor)
            do {
                var response = try handler(call)
                // RFC 9111 §5.2.2.5: clients, staff and sync errors are for no cache to keep.
                response.headerFields[.cacheControl] = "no-store"
                return response
            } catch {
                throw Problem.from(error) ?? error
            }
        }
    }
}
