import Foundation
import HTTPServer
import HTTPTypes
import Logging
import Postgres
import ReceiverCore

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

    var clientId: String { client.clientId }
}

/// Wraps `/v1` handlers: one pooled connection per request, HTTP Basic
/// authentication on it, the client's rate limit (429), the core's errors and
/// database failures turned into problems, and rejected writes recorded as
/// sync errors for the admins.
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
    /// Readers of the change feed waiting for a change, told of each write that succeeds here.
    var changeWaiters: ChangeWaiters?
    /// Records reader credentials' `lastUsedAt`; one per process, shared by every call.
    var readerUse = ReaderUseRecorder()
    /// Notes each client's last successful and failed call for the console; nil: not kept.
    var callRecorder: ClientCallRecorder?

    typealias Handler = @Sendable (ConnectorCall) throws -> Response
    /// A handler that may defer its response (`RequestContext.deferResponse()`).
    typealias DeferringHandler = @Sendable (ConnectorCall, inout RequestContext) throws -> Response

    /// A read: no sync error bookkeeping.
    func read(_ handler: @escaping Handler) -> RequestHandler {
        wrap(recordsSyncErrors: nil) { call, _ in try handler(call) }
    }

    /// A read whose handler may defer its response (a long poll).
    func read(deferring handler: @escaping DeferringHandler) -> RequestHandler {
        wrap(recordsSyncErrors: nil, handler)
    }

    /// A write to `resource`: a rejection is recorded as a sync error; a success
    /// wakes the change feed's waiting readers.
    func write(_ resource: SyncErrorResource, _ handler: @escaping Handler) -> RequestHandler {
        wrap(recordsSyncErrors: resource) { [changeWaiters] call, _ in
            let response = try handler(call)
            changeWaiters?.changed()
            return response
        }
    }

    /// The Basic credential of a `/v1` request, or the 401 that says what is wrong.
    static func credential(_ request: Request) throws(Problem) -> ClientCredential {
        guard let (username, password) = BasicCredentials.parse(request) else {
            throw Problem.basicUnauthorized("Send the client's credentials with HTTP Basic authentication.")
        }
        guard let credential = ClientCredential(username: username, password: password) else {
            throw Problem(ClientCredential.rejected)
        }
        return credential
    }

    private func wrap(recordsSyncErrors resource: SyncErrorResource?, _ handler: @escaping DeferringHandler) -> RequestHandler {
        recordingCalls { [database, rateLimiter, readerUse] request, context in
            let operation = "\(request.method.rawValue) \(context.routeTemplate)"
            let requestID = context.requestID
            let parameters = context.parameters
            do {
                return try database.withConnection { connection in
                    let client = try ClientAuthenticator.authenticate(try Self.credential(request), on: connection)
                    try Self.admit(client, method: request.method, rateLimiter: rateLimiter, readerUse: readerUse, on: connection, logger: context.logger)
                    let call = ConnectorCall(request: request, client: client, connection: connection, requestID: requestID, operation: operation, parameters: parameters)
                    do {
                        var response = try handler(call, &context)
                        // RFC 9111 §5.2.2.5: records and lists are personal data, for no cache to keep.
                        response.headerFields[.cacheControl] = "no-store"
                        return response
                    } catch {
                        guard let problem = Problem.from(error) else { throw error }
                        if let resource {
                            Self.recordRejection(problem, resource: resource, clientId: client.clientId, operation: operation,
                                                 requestID: requestID, request: request, parameters: parameters, on: connection)
                        }
                        throw problem
                    }
                }
            } catch {
                throw Problem.from(error) ?? error
            }
        }
    }

    /// What every `/v1` call passes once its credential authenticates: a reader
    /// credential only reads (GET and HEAD, whatever the route), and its use is
    /// recorded; the client's rate limit.
    static func admit(
        _ client: AuthenticatedClient, method: HTTPRequest.Method, rateLimiter: ClientRateLimiter?, readerUse: ReaderUseRecorder,
        on connection: PostgresConnection, logger: Logger
    ) throws {
        if client.role == .reader, method != .get, method != .head {
            throw ReceiverError.readOnlyCredential
        }
        if client.role == .reader, let readerId = client.readerId {
            readerUse.recordUse(readerId: readerId, clientId: client.clientId, on: connection, logger: logger)
        }
        if let rateLimiter, case .limited(let seconds) = rateLimiter.admit(client.clientId) {
            throw ReceiverError.rateLimited(clientId: client.clientId, settings: rateLimiter.settings, retryAfterSeconds: seconds)
        }
    }

    /// Every 4xx but 401 (nobody to attribute it to) and 404 (no record).
    static func isRecorded(_ status: Int) -> Bool {
        (400..<500).contains(status) && status != 401 && status != 404
    }

    /// Records a rejected write for the admins, if it is one they keep. The
    /// external id comes from the path, else from the (rejected) body.
    static func recordRejection(
        _ problem: Problem, resource: SyncErrorResource, clientId: String, operation: String, requestID: String,
        request: Request, parameters: PathParameters, on connection: PostgresConnection
    ) {
        guard isRecorded(problem.status.code) else { return }
        let externalId = parameters["externalId"]
            ?? (try? RequestSupport.jsonObject(request, allowMergePatch: true))?["externalId"]?.stringValue
        SyncErrors.record(RejectedWrite(
            clientId: clientId, operation: operation, resource: resource, externalId: externalId,
            recordId: parameters["id"].flatMap(RecordID.parse), requestId: requestID, problem: problem.jsonObject), on: connection)
    }
}
