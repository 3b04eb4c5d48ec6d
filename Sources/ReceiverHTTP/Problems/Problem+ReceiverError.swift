import HTTPTypes
import ReceiverCore

extension Problem {
    /// The one place where the core's errors become RFC 9457 problems: each
    /// case's status, type and title; the detail is the core's.
    init(_ error: ReceiverError) {
        switch error {
        case .invalid(let errors):
            self = .validation(errors)
        case .badQuery(let detail):
            self = .badRequest(detail)
        case .notFound(let detail):
            self = .notFound(detail)
        case .conflict(let detail, let existingId):
            self = .conflict(detail, extensions: existingId.map { ["existingId": .string($0.lowercasedString)] } ?? [:])
        case .versionMismatch(let detail):
            self = .preconditionFailed(detail)
        case .unauthenticated(let detail):
            self = .basicUnauthorized(detail)
        case .clientSuspended(let clientId):
            self = Problem(.forbidden, type: "client-suspended", title: "Forbidden",
                           detail: "The client \(clientId) is suspended; ask the receiver's administrators to reactivate it.")
        case .readOnlyCredential:
            self = Problem(.forbidden, type: "read-only-credential", title: "Forbidden",
                           detail: "This is a reader credential: it may only read (GET). Writes take the client's Connector credential.")
        case .cursorExpired:
            self = Problem(.gone, type: "cursor-expired", title: "Cursor expired",
                           detail: "This cursor is older than the events the receiver keeps; nothing after it can be read any more. Resynchronize from the lists (GET /v1/prospects, /v1/members, … with updatedSince), then follow the change feed from a new cursor.")
        case .idempotencyKeyReused:
            self = Problem(.unprocessableContent, type: "idempotency-key-reused", title: "Idempotency-Key reused",
                           detail: "This Idempotency-Key was used for a different request in the last 24 hours; use a new key for a new request.",
                           errors: [FieldError(field: "Idempotency-Key", message: "was used for a different request")])
        case .rateLimited(let clientId, let settings, let seconds):
            self = .rateLimited(clientId: clientId, settings: settings, retryAfterSeconds: seconds)
        case .overloaded(let seconds):
            self = .overloaded(retryAfterSeconds: seconds)
        case .databaseUnavailable(let detail):
            self = .databaseUnavailable(detail: detail)
        case .outcomeUnknown:
            self = .outcomeUnknown()
        }
    }

    /// The problem `error` stands for: a problem as it is, a core error mapped,
    /// a database failure the caller can retry after; nil for faults of the server.
    static func from(_ error: any Error) -> Problem? {
        if let problem = error as? Problem { return problem }
        return ReceiverError(classifying: error).map(Problem.init)
    }

    /// 503: the request's transaction was cut off while committing, so whether it
    /// took effect is unknown. Never answered 2xx: the client retries, and saves
    /// and Idempotency-Key requests are safe to retry.
    static func outcomeUnknown() -> Problem {
        var problem = databaseUnavailable(
            detail: "The database connection was lost while committing; the outcome is unknown. Retry the request: saves and requests with an Idempotency-Key are safe to repeat.")
        problem.type = "urn:connector-receiver:problem:outcome-unknown"
        return problem
    }

    /// 401 with the Basic challenge of `/v1` (RFC 7617).
    static func basicUnauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Basic realm="connector-receiver""#
        return Problem(.unauthorized, type: "unauthorized", title: "Unauthorized", detail: detail, headerFields: headers)
    }
}
