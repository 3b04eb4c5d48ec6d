import CLibPQ
import Logging

/// Sending one statement and turning its result into rows or an error, under the reconnect
/// rule for the first statement of a loan.
extension ConnectionState {
    /// Sends `statement` and returns its complete result.
    ///
    /// The reconnect rule, only for the first statement of a pool loan of a connection
    /// that sat idle (so no earlier work of the caller can be lost or repeated):
    ///
    /// 1. Before sending, the socket is checked (`checkAliveAfterIdle`). If the server
    ///    has already closed the session, the connection is reopened and the statement
    ///    sent on the new session. Safe: nothing was sent.
    /// 2. If a single statement (not `simpleExecute` text, which may hold its own
    ///    COMMIT) fails because the server ended the session (SQLSTATE 57P01
    ///    admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now or 57P05
    ///    idle_session_timeout, and the connection then closed), it is sent once more
    ///    on a new session. Safe: a terminated session aborts what it was running.
    ///
    /// Any other connection loss (a network failure, a crash without goodbye) is not
    /// retried: the statement may have committed before the connection broke. Nor is
    /// a loss on any later statement of the loan.
    mutating func execute(_ statement: Statement) throws(PostgresError) -> PostgresRows {
        guard handle != nil else { throw Self.closedError }
        try Self.validate(statement)
        return try applyingReconnectRule(resendable: statement.isAbortedWholeByTermination) { state throws(PostgresError) in
            try state.executeOnce(statement)
        }
    }

    /// Runs `send` (one exchange with the server) under the reconnect rule of
    /// `execute`; `resendable`: whether what it sends is aborted whole when the
    /// server ends the session, so that sending it again is safe.
    mutating func applyingReconnectRule<Result>(
        resendable: Bool, _ send: (inout ConnectionState) throws(PostgresError) -> Result
    ) throws(PostgresError) -> Result {
        let mayReconnect = reconnectIfTerminatedBeforeFirstStatement
        reconnectIfTerminatedBeforeFirstStatement = false
        if mayReconnect, !checkAliveAfterIdle() {
            logger.notice("the server had closed this pooled connection while it was idle; reconnecting before sending the statement")
            try reconnect()
        }
        do throws(PostgresError) {
            return try send(&self)
        } catch let error where mayReconnect && error.isSessionTerminatedByServer && resendable {
            logger.notice(
                "the server had ended this pooled connection's session while it was idle; reconnecting and sending the statement again",
                metadata: ["sqlstate": "\(error.code?.rawValue ?? "")"]
            )
            try reconnect()
            return try send(&self)
        }
    }

    /// Refuses what cannot be sent faithfully, instead of letting C strings cut it short.
    static func validate(_ statement: Statement) throws(PostgresError) {
        if containsNUL(statement.sql) {
            throw PostgresError(kind: .invalidQuery, message: "the SQL text contains a NUL byte", query: statement.sql)
        }
        guard case .parameterized(let query) = statement else { return }
        // The protocol counts parameters in 16 bits.
        guard query.bindings.count <= 65535 else {
            throw PostgresError(kind: .invalidQuery, message: "\(query.bindings.count) bind parameters; PostgreSQL accepts at most 65535 per statement", query: query.sql)
        }
        for (index, binding) in query.bindings.enumerated() where binding.text.map(containsNUL) == true {
            throw PostgresError(
                kind: .invalidQuery,
                message: "bind parameter $\(index + 1) contains a NUL byte, which PostgreSQL text values cannot hold",
                query: query.sql
            )
        }
    }

    /// One round trip: send the statement, wait for its result, turn it into rows or an
    /// error. Every wait is bounded by the statement's deadline (`responseTimeout`).
    mutating func executeOnce(_ statement: Statement) throws(PostgresError) -> PostgresRows {
        guard let handle else { throw Self.closedError }
        let deadline = responseTimeout.map { ContinuousClock.now + $0 }
        try send(statement, on: handle, by: deadline)
        let result = try lastResult(of: statement, on: handle, by: deadline)
        defer { if let result { PQclear(result) } }
        guard let result else { throw failure(nil, statement) }

        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.rows(of: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw failure(result, statement)
        case PGRES_COPY_IN:
            // The server now waits for data that will never come: end the COPY with an
            // error and swallow the results, which leaves the session usable.
            if PQputCopyEnd(handle, "COPY FROM STDIN is not supported by this client") == 1 {
                try flush(statement, on: handle, by: deadline)
                try discardResults(of: statement, on: handle, by: deadline)
            } else {
                isBroken = true
            }
            throw unsupported("COPY … FROM STDIN", statement)
        case PGRES_COPY_OUT:
            try discardCopyData(of: statement, on: handle, by: deadline)
            try discardResults(of: statement, on: handle, by: deadline)
            throw unsupported("COPY … TO STDOUT", statement)
        default:
            // COPY BOTH (replication) or a pipeline state: no way back to a plain session.
            isBroken = true
            throw unsupported("a result of type \(String(cString: PQresStatus(status)))", statement)
        }
    }
}
