import Foundation
import Postgres

/// Why the receiver refuses or cannot do what it was asked, in the product's
/// terms. The rules throw these; the HTTP layer maps each case to its RFC 9457
/// problem in one place (`Problem(_:)` in ReceiverHTTP), and the command line
/// words them for an operator. Every `detail` is safe to show to the caller.
public enum ReceiverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input that does not validate: every bad field.
    case invalid([FieldError])
    /// A query or cursor the caller must correct (bad `limit`, foreign cursor).
    case badQuery(String)
    /// The record or client does not exist (or belongs to another client).
    case notFound(String)
    /// The write conflicts with what is stored; `existingId` names the record
    /// that holds the contested identity, when there is one.
    case conflict(String, existingId: UUID? = nil)
    /// A conditional write whose expected version is not the current one.
    case versionMismatch(String)
    /// No credential, or a wrong one, for a client.
    case unauthenticated(String)
    /// The client exists but is suspended.
    case clientSuspended(clientId: String)
    /// A reader credential used for a write.
    case readOnlyCredential
    /// A change feed cursor from before what retention keeps.
    case cursorExpired
    /// An idempotency key already used for a different request.
    case idempotencyKeyReused
    /// The client is over its request rate; `retryAfterSeconds` until it may try again.
    case rateLimited(clientId: String, settings: ClientRateLimiter.Settings, retryAfterSeconds: Int)
    /// More work than the server can take; nothing was done.
    case overloaded(retryAfterSeconds: Int)
    /// The database is unreachable or saturated; nothing was written.
    case databaseUnavailable(detail: String?)
    /// The connection was lost during COMMIT: whether the write took effect is unknown.
    case outcomeUnknown

    /// One invalid field.
    public static func invalidField(_ field: String, _ message: String) -> ReceiverError {
        .invalid([FieldError(field: field, message: message)])
    }

    /// The text of a cursor a list did not hand out (one wording for every list).
    public static let foreignCursor = ReceiverError.badQuery("cursor is not a cursor this list returned; start again without it.")

    public var description: String {
        switch self {
        case .invalid(let errors): return "invalid: \(errors.map(\.description).joined(separator: "; "))"
        case .badQuery(let detail), .notFound(let detail), .versionMismatch(let detail), .unauthenticated(let detail):
            return detail
        case .conflict(let detail, let existingId): return detail + (existingId.map { " (existing \($0.lowercasedString))" } ?? "")
        case .clientSuspended(let clientId): return "client \(clientId) is suspended"
        case .readOnlyCredential: return "a reader credential cannot write"
        case .idempotencyKeyReused: return "Idempotency-Key reused for a different request"
        case .cursorExpired: return "the cursor is older than the events kept"
        case .rateLimited(let clientId, _, let seconds): return "client \(clientId) is over its rate; retry after \(seconds) s"
        case .overloaded(let seconds): return "overloaded; retry after \(seconds) s"
        case .databaseUnavailable(let detail): return detail ?? "database unavailable"
        case .outcomeUnknown: return "commit outcome unknown"
        }
    }
}

extension ReceiverError {
    /// The error a database failure stands for, if it is one the caller can do
    /// something about (retry later); nil for faults of the server itself.
    public init?(_ error: PostgresError) {
        switch error.kind {
        case .commitOutcomeUnknown:
            self = .outcomeUnknown
        case .connectionFailed, .connectionLost, .poolTimeout, .poolClosed:
            self = .databaseUnavailable(detail: nil)
        case .server:
            switch error.code {
            // A read-only session: a standby, reached during a failover through a URL
            // without target_session_attrs=read-write; the primary is elsewhere, retry.
            case .queryCanceled?, .adminShutdown?, .crashShutdown?, .cannotConnectNow?, .tooManyConnections?, .readOnlySQLTransaction?:
                self = .databaseUnavailable(detail: nil)
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// Whatever `error` is, as a `ReceiverError` if it stands for one.
    public init?(classifying error: any Error) {
        if let error = error as? ReceiverError {
            self = error
        } else if let error = error as? PostgresError, let mapped = ReceiverError(error) {
            self = mapped
        } else {
            return nil
        }
    }
}

extension Result where Failure == ValidationFailure {
    /// The value, or `ReceiverError.invalid` naming every bad field.
    public func validated() throws(ReceiverError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let failure): throw .invalid(failure.errors)
        }
    }
}
