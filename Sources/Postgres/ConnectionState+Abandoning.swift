import CLibPQ
import Logging

/// Giving up on a statement whose deadline passed.
extension ConnectionState {
    /// The statement's deadline passed: the server did not answer in time (hung, stopped,
    /// cut off by the network, or overloaded). Nothing more can be sent on this session
    /// before the answer arrives, so it is closed; the server is asked to cancel the
    /// statement, without waiting (see ``CancelRequest``). Whether the statement took
    /// effect is unknown, as with any lost connection (during COMMIT, the transaction
    /// turns it into `.commitOutcomeUnknown`).
    mutating func abandon(_ statement: Statement, on handle: OpaquePointer) -> PostgresError {
        let backendPID = PQbackendPID(handle)
        let cancel = PQgetCancel(handle)
        isBroken = true
        close()
        if let cancel { CancelRequest.send(cancel, backendPID: backendPID, logger: logger) }
        let waited = responseTimeout.map { PostgresConnectionPool.format($0) } ?? "the time allowed"
        logger.warning(
            "PostgreSQL did not answer within \(waited); abandoning the statement and closing the connection",
            metadata: ["backend_pid": "\(backendPID)"]
        )
        return PostgresError(
            kind: .connectionLost,
            message: "PostgreSQL did not answer within \(waited); the statement was abandoned and the connection closed, so it may or may not have taken effect",
            query: statement.sql
        )
    }
}
