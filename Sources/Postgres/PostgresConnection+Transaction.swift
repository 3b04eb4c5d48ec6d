#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A transaction isolation level (PostgreSQL manual, section 13.2).
public enum PostgresIsolationLevel: String, Sendable, Hashable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` inside `BEGIN` … `COMMIT` and returns its result.
    ///
    /// - If `body` throws, the transaction is rolled back and the error rethrown.
    /// - If `retries` > 0 and the transaction fails with a serialization failure
    ///   (`40001`) or a deadlock (`40P01`), in `body` or at `COMMIT`, the server has
    ///   already rolled it back: `body` runs again from the start, at most `retries`
    ///   more times, after a short randomized pause. So `body` must be safe to repeat:
    ///   no side effects outside the database.
    /// - If the connection is lost while `COMMIT` is in flight, the error has kind
    ///   `.commitOutcomeUnknown` and nothing is retried: the transaction may have
    ///   committed. Lost before `COMMIT`, it is `.connectionLost` (it did not commit).
    /// - If a statement failed inside `body` but `body` swallowed the error, `COMMIT`
    ///   is impossible: the transaction is rolled back and an error with SQLSTATE
    ///   `25P02` is thrown, rather than PostgreSQL's silent rollback.
    ///
    /// - Throws: whatever `body` throws, or ``PostgresError``; `.invalidUsage` when a
    ///   transaction is already open on this connection (transactions do not nest).
    public func transaction<Result>(
        isolation: PostgresIsolationLevel = .readCommitted,
        retries: Int = 0,
        _ body: (PostgresConnection) throws -> Result
    ) throws -> Result {
        precondition(retries >= 0, "retries must not be negative")
        var attempt = 0
        while true {
            try checkNoTransactionOpen()
            try command("BEGIN ISOLATION LEVEL \(isolation.rawValue)")

            let value: Result
            do {
                value = try body(self)
            } catch {
                rollbackAfterFailure()
                if attempt < retries, let failure = error as? PostgresError, failure.isRetryableTransactionFailure {
                    attempt += 1
                    pauseBeforeRetry(attempt: attempt, reason: failure)
                    continue
                }
                throw error
            }

            do throws(PostgresError) {
                try commit()
                return value
            } catch {
                if attempt < retries, error.isRetryableTransactionFailure {
                    attempt += 1
                    pauseBeforeRetry(attempt: attempt, reason: error)
                    continue
                }
                throw error
            }
        }
    }

    /// Opens a transaction with `BEGIN` and runs `queries` in the same round trip
    /// (``pipeline(_:)``); returns their rows. End the transaction with
    /// ``commit(after:)`` or ``rollback()``: together, a transaction that reads,
    /// decides and writes in two round trips, where ``transaction(isolation:retries:_:)``
    /// takes one more for `BEGIN` and one for `COMMIT`. If a query fails, the
    /// transaction is rolled back and the error thrown.
    @discardableResult
    public func begin(
        isolation: PostgresIsolationLevel = .readCommitted, with queries: [PostgresQuery]
    ) throws(PostgresError) -> [PostgresRows] {
        try checkNoTransactionOpen()
        do throws(PostgresError) {
            return Array(try pipeline([PostgresQuery(sql: "BEGIN ISOLATION LEVEL \(isolation.rawValue)")] + queries).dropFirst())
        } catch {
            rollbackAfterFailure()
            throw error
        }
    }

    /// Runs `queries` and `COMMIT` in one round trip, ending the transaction that
    /// ``begin(isolation:with:)`` opened; returns the queries' rows. As at the end of
    /// ``transaction(isolation:retries:_:)``: if a query fails, the transaction is
    /// rolled back and the error thrown; if the connection is lost, the error has
    /// kind `.commitOutcomeUnknown`, for the transaction may have committed.
    @discardableResult
    public func commit(after queries: [PostgresQuery]) throws(PostgresError) -> [PostgresRows] {
        try checkCommittable()
        _ = takeCanceledSynchronousReplicationWait()
        let rows: [PostgresRows]
        do throws(PostgresError) {
            rows = try pipeline(queries + [PostgresQuery(sql: "COMMIT")])
        } catch let error where error.isConnectionLost {
            throw Self.commitOutcomeUnknown(error)
        } catch {
            rollbackAfterFailure()
            throw error
        }
        if let last = rows.last { try Self.checkCommitted(last) }
        try checkReplicated()
        return Array(rows.dropLast())
    }

    /// Rolls back the open transaction, if any (best effort, as after a failure).
    public func rollback() {
        rollbackAfterFailure()
    }

    private func checkNoTransactionOpen() throws(PostgresError) {
        switch transactionStatus {
        case .inTransaction, .inFailedTransaction, .active:
            throw PostgresError(
                kind: .invalidUsage,
                message: "a transaction is already open on this connection; transactions do not nest (use SAVEPOINT inside the outer one)"
            )
        case .idle, .unknown:
            break  // .unknown: BEGIN reports the broken connection
        }
    }

    /// PostgreSQL answers `COMMIT` of a transaction that had already failed with
    /// the tag `ROLLBACK`, not an error.
    private static func checkCommitted(_ result: PostgresRows) throws(PostgresError) {
        if result.commandTag == "ROLLBACK" {
            throw PostgresError(kind: .server, message: "COMMIT rolled the transaction back", code: .transactionRollback)
        }
    }

    private static func commitOutcomeUnknown(_ error: PostgresError) -> PostgresError {
        var unknown = error
        unknown.kind = .commitOutcomeUnknown
        unknown.message = "the connection was lost while committing, so the transaction may or may not have committed (\(error.message))"
        return unknown
    }

    private func commit() throws(PostgresError) {
        try checkCommittable()
        _ = takeCanceledSynchronousReplicationWait()
        do throws(PostgresError) {
            try Self.checkCommitted(try command("COMMIT"))
        } catch let error where error.isConnectionLost {
            throw Self.commitOutcomeUnknown(error)
        }
        try checkReplicated()
    }

    /// With a synchronous standby (`synchronous_commit` on, `synchronous_standby_names`
    /// set), `COMMIT` returns once the standby has the transaction. If that wait is
    /// cancelled (a cancel request: `pg_cancel_backend`, a tool; `statement_timeout`
    /// does not end it), PostgreSQL still answers success, with the WARNING "canceling wait for
    /// synchronous replication": the transaction is committed on the primary only, and
    /// a failover to the standby would lose it. That is not a commit to acknowledge:
    /// it is reported as `.commitOutcomeUnknown`, so the caller answers as for a commit
    /// cut off (a retry with the same key is safe and finds what was committed).
    private func checkReplicated() throws(PostgresError) {
        guard takeCanceledSynchronousReplicationWait() else { return }
        logger.warning("COMMIT returned without the synchronous standby's confirmation; reporting the outcome as unknown")
        throw PostgresError(
            kind: .commitOutcomeUnknown,
            message: "COMMIT returned before the synchronous standby confirmed it (the wait was cancelled): the transaction is on the primary only, and a failover may lose it"
        )
    }

    /// Throws unless a transaction is open and has not failed (then rolling it back).
    private func checkCommittable() throws(PostgresError) {
        switch transactionStatus {
        case .inTransaction:
            break
        case .inFailedTransaction:
            rollbackAfterFailure()
            throw PostgresError(
                kind: .server,
                message: "the transaction was rolled back: a statement in it failed and the error was not rethrown, so it could not commit",
                code: .inFailedSQLTransaction
            )
        case .idle:
            throw PostgresError(
                kind: .invalidUsage,
                message: "the transaction body ended the transaction itself (COMMIT or ROLLBACK inside transaction { }); do not do that"
            )
        case .active, .unknown:
            // The session is gone before COMMIT was sent: PostgreSQL aborts the open
            // transaction of a lost session, so it certainly did not commit.
            throw PostgresError(kind: .connectionLost, message: "the connection was lost before COMMIT; the transaction did not commit")
        }
    }

    /// Best effort: a failed ROLLBACK leaves nothing to do (the server rolls back an
    /// aborted session's transaction by itself).
    private func rollbackAfterFailure() {
        guard isHealthy else { return }
        switch transactionStatus {
        case .inTransaction, .inFailedTransaction:
            do {
                try command("ROLLBACK")
            } catch {
                logger.warning("ROLLBACK failed: \(error)")
            }
        case .idle, .active, .unknown:
            break
        }
    }

    /// Retrying at once tends to collide again with the same concurrent transaction;
    /// a randomized, growing pause (up to 5, 10, 20… ms, at most 200 ms) spreads them.
    private func pauseBeforeRetry(attempt: Int, reason: PostgresError) {
        let ceiling = min(200, 5 << min(attempt, 6))
        let milliseconds = Int.random(in: (ceiling / 2)...ceiling)
        logger.debug(
            "retrying transaction after \(reason.code?.description ?? "failure")",
            metadata: ["attempt": "\(attempt)", "pause_ms": "\(milliseconds)"]
        )
        usleep(UInt32(milliseconds * 1000))
    }
}
