import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Postgres

@Suite("Transactions")
struct TransactionTests {
    struct Boom: Error {}

    private func count(_ conn: PostgresConnection, _ table: String = "t") throws -> Int {
        try conn.query("SELECT count(*) FROM \(identifier: table)").first!.decode(0, as: Int.self)
    }

    @Test func commitMakesChangesVisibleToOthers() throws {
        try TestDatabase.withDatabase { config throws in
            let conn = try PostgresConnection.connect(config)
            let other = try PostgresConnection.connect(config)
            try conn.simpleExecute("CREATE TABLE t (x int)")
            let value = try conn.transaction { conn in
                try conn.execute("INSERT INTO t VALUES (\(1))")
                #expect(conn.transactionStatus == .inTransaction)
                #expect(try self.count(other) == 0)  // not yet committed
                return "done"
            }
            #expect(value == "done")
            #expect(conn.transactionStatus == .idle)
            #expect(try count(other) == 1)
        }
    }

    @Test func thrownErrorRollsBackAndIsRethrownAsIs() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE t (x int)")
            do {
                try conn.transaction { conn in
                    try conn.execute("INSERT INTO t VALUES (\(1))")
                    throw Boom()
                }
                Issue.record("expected Boom to be rethrown")
            } catch {
                #expect(error is Boom)
            }
            #expect(conn.transactionStatus == .idle)
            #expect(try count(conn) == 0)
            // A server error inside rolls back too and keeps its SQLSTATE.
            let error = expectPostgresError {
                try conn.transaction { conn in
                    try conn.execute("INSERT INTO t VALUES (\(1))")
                    try conn.execute("INSERT INTO t VALUES (\("x"))")
                }
            }
            #expect(error?.code == .datatypeMismatch || error?.code == .invalidTextRepresentation)
            #expect(try count(conn) == 0)
        }
    }

    @Test func isolationLevelIsApplied() throws {
        try TestDatabase.withConnection { conn throws in
            for (level, name) in [(PostgresIsolationLevel.readCommitted, "read committed"), (.repeatableRead, "repeatable read"), (.serializable, "serializable")] {
                let shown = try conn.transaction(isolation: level) { conn in
                    try conn.query("SHOW transaction_isolation").first!.decode(0, as: String.self)
                }
                #expect(shown == name)
            }
        }
    }

    /// Attempt 1 reads a row, another session then updates and commits it, and
    /// attempt 1's update fails with 40001 (REPEATABLE READ); attempt 2 succeeds.
    private func forcedConflict(retries: Int, conflictOnEveryAttempt: Bool) throws -> (result: Result<Int, any Error>, attempts: Int, final: Int) {
        try TestDatabase.withDatabase { config throws in
            let conn = try PostgresConnection.connect(config)
            let other = try PostgresConnection.connect(config)
            try conn.simpleExecute("CREATE TABLE counter (id int PRIMARY KEY, v int); INSERT INTO counter VALUES (1, 0)")
            var attempts = 0
            let result = Result {
                try conn.transaction(isolation: .repeatableRead, retries: retries) { conn in
                    attempts += 1
                    let v = try conn.query("SELECT v FROM counter WHERE id = 1").first!.decode(0, as: Int.self)
                    if attempts == 1 || conflictOnEveryAttempt {
                        try other.execute("UPDATE counter SET v = v + 100 WHERE id = 1")
                    }
                    try conn.execute("UPDATE counter SET v = \(v + 1) WHERE id = 1")
                    return v + 1
                }
            }
            let final = try other.query("SELECT v FROM counter WHERE id = 1").first!.decode(0, as: Int.self)
            return (result, attempts, final)
        }
    }

    @Test func serializationFailureIsRetriedWhenAsked() throws {
        let (result, attempts, final) = try forcedConflict(retries: 2, conflictOnEveryAttempt: false)
        #expect(try result.get() == 101)
        #expect(attempts == 2)
        #expect(final == 101)
    }

    @Test func serializationFailureIsNotRetriedByDefault() throws {
        let (result, attempts, final) = try forcedConflict(retries: 0, conflictOnEveryAttempt: false)
        #expect(attempts == 1)
        #expect(final == 100)
        #expect(throws: PostgresError.self) { try result.get() }
        if case .failure(let error as PostgresError) = result {
            #expect(error.code == .serializationFailure)
            #expect(error.isRetryableTransactionFailure)
        }
    }

    @Test func retriesAreBounded() throws {
        let (result, attempts, final) = try forcedConflict(retries: 2, conflictOnEveryAttempt: true)
        #expect(attempts == 3)
        #expect(final == 300)
        if case .failure(let error as PostgresError) = result {
            #expect(error.code == .serializationFailure)
        } else {
            Issue.record("expected a serialization failure, got \(result)")
        }
    }

    @Test func deadlockIsRetried() throws {
        try TestDatabase.withDatabase { config throws in
            let setup = try PostgresConnection.connect(config)
            try setup.simpleExecute("CREATE TABLE r (id int PRIMARY KEY, v int); INSERT INTO r VALUES (1, 0), (2, 0)")
            let firstLocked = TestSignal(), secondLocked = TestSignal()
            let attempts = TestCounter()
            func worker(first: Int, second: Int, locked: TestSignal, otherLocked: TestSignal) -> TestThread<Void> {
                TestThread {
                    let conn = try PostgresConnection.connect(config)
                    try conn.simpleExecute("SET deadlock_timeout = '50ms'")
                    var attempt = 0
                    try conn.transaction(retries: 3) { conn in
                        attempt += 1
                        attempts.increment()
                        try conn.execute("UPDATE r SET v = v + 1 WHERE id = \(first)")
                        if attempt == 1 {
                            locked.fire()
                            try otherLocked.wait()
                        }
                        try conn.execute("UPDATE r SET v = v + 1 WHERE id = \(second)")
                    }
                }
            }
            let a = worker(first: 1, second: 2, locked: firstLocked, otherLocked: secondLocked)
            let b = worker(first: 2, second: 1, locked: secondLocked, otherLocked: firstLocked)
            try a.join()
            try b.join()
            #expect(attempts.current == 3)  // one victim, retried once
            let values = try setup.query("SELECT v FROM r ORDER BY id").map { try $0.decode(0, as: Int.self) }
            #expect(values == [2, 2])
        }
    }

    @Test func transactionsDoNotNest() throws {
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError {
                try conn.transaction { conn in
                    try conn.transaction { _ in }
                }
            }
            #expect(error?.kind == .invalidUsage)
            #expect(conn.transactionStatus == .idle)
        }
    }

    @Test func swallowedStatementFailureCannotCommit() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE t (x int UNIQUE)")
            let error = expectPostgresError {
                try conn.transaction { conn in
                    try conn.execute("INSERT INTO t VALUES (1)")
                    _ = try? conn.execute("INSERT INTO t VALUES (1)")  // fails, error ignored
                }
            }
            #expect(error?.code == .inFailedSQLTransaction)
            #expect(error?.message.contains("rolled back") == true)
            #expect(conn.transactionStatus == .idle)
            #expect(try count(conn) == 0)
        }
    }

    @Test func bodyThatEndsTheTransactionItselfIsRefused() throws {
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError {
                try conn.transaction { conn in try conn.simpleExecute("COMMIT") }
            }
            #expect(error?.kind == .invalidUsage)
        }
    }

    @Test func connectionLostAtCommitIsCommitOutcomeUnknownAndNotRetried() throws {
        try TestDatabase.withDatabase { config throws in
            let conn = try PostgresConnection.connect(config)
            try conn.simpleExecute("CREATE TABLE t (x int)")
            var attempts = 0
            let error = expectPostgresError {
                try conn.transaction(isolation: .serializable, retries: 3) { conn in
                    attempts += 1
                    try conn.execute("INSERT INTO t VALUES (1)")
                    // The session dies after the body's last statement: COMMIT goes to a dead server process.
                    try TestDatabase.terminate(conn.backendPID)
                }
            }
            #expect(attempts == 1)
            #expect(error?.kind == .commitOutcomeUnknown)
            #expect(error?.isCommitOutcomeUnknown == true)
            #expect(error?.isConnectionLost == true)
            #expect(error?.message.contains("may or may not have committed") == true)
            #expect(!conn.isHealthy)
        }
    }

    @Test func connectionLostInsideTheBodyIsReportedAndNotRetried() throws {
        try TestDatabase.withConnection { conn throws in
            var attempts = 0
            let error = expectPostgresError {
                try conn.transaction(retries: 3) { conn in
                    attempts += 1
                    try TestDatabase.terminate(conn.backendPID)
                    try conn.execute("SELECT 1")
                }
            }
            #expect(attempts == 1)
            #expect(error?.kind == .connectionLost)
            #expect(error?.code == .adminShutdown)
        }
    }

    @Test func connectionKnownLostBeforeCommitDidNotCommit() throws {
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError {
                try conn.transaction(retries: 2) { conn in
                    try TestDatabase.terminate(conn.backendPID)
                    _ = try? conn.query("SELECT 1")  // fails; the body swallows the error
                }
            }
            #expect(error?.kind == .connectionLost)
            #expect(error?.isCommitOutcomeUnknown == false)
            #expect(error?.message.contains("did not commit") == true)
        }
    }
}
