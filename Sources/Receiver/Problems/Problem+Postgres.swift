import Postgres

extension Problem {
    /// 503: the request's transaction was cut off while committing, so whether it
    /// took effect is unknown. Never answered 2xx: the client retries, and saves
    /// and Idempotency-Key requests are safe to retry.
    public static func outcomeUnknown() -> Problem {
        var problem = databaseUnavailable(
            detail: "The database connection was lost while committing; the outcome is unknown. Retry the request: saves and requests with an Idempotency-Key are safe to repeat.")
        problem.type = "urn:connector-receiver:problem:outcome-unknown"
        return problem
    }

    /// The problem a database failure stands for, if it is one the client can
    /// do something about (retry later); nil for faults of the server itself.
    public static func from(_ error: PostgresError) -> Problem? {
        switch error.kind {
        case .commitOutcomeUnknown:
            return outcomeUnknown()
        case .connectionFailed, .connectionLost, .poolTimeout, .poolClosed:
            return databaseUnavailable()
        case .server:
            switch error.code {
            case .queryCanceled?, .adminShutdown?, .crashShutdown?, .cannotConnectNow?, .tooManyConnections?:
                return databaseUnavailable()
            default:
                return nil
            }
        default:
            return nil
        }
    }
}
