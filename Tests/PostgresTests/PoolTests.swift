import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Connection pool")
struct PoolTests {
    private func pid(_ conn: PostgresConnection) throws -> Int32 {
        try conn.query("SELECT pg_backend_pid()").first!.decode(0, as: Int32.self)
    }

    @Test func opensLazilyAndReusesConnections() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 4, logger: TestDatabase.logger)
            defer { pool.close() }
            #expect(pool.statistics.openConnections == 0)
            let first = try pool.withConnection { try pid($0) }
            let second = try pool.withConnection { try pid($0) }
            #expect(first == second)
            #expect(pool.statistics == .init(openConnections: 1, idleConnections: 1, waitingThreads: 0, maximumConnections: 4))
            let sum = try pool.withTransaction { conn in
                try conn.query("SELECT 2 + 3").first!.decode(0, as: Int.self)
            }
            #expect(sum == 5)
        }
    }

    @Test func neverOpensMoreThanTheMaximum() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 3, acquireTimeout: .seconds(30), logger: TestDatabase.logger)
            defer { pool.close() }
            let highestOpen = TestCounter()
            let concurrentLoans = TestCounter()
            let highestConcurrent = TestCounter()
            let threads = (0..<8).map { _ in
                TestThread { () throws -> Set<Int32> in
                    var pids: Set<Int32> = []
                    for _ in 0..<10 {
                        try pool.withConnection { conn throws in
                            let inUse = concurrentLoans.increment()
                            highestConcurrent.recordMaximum(inUse)
                            highestOpen.recordMaximum(pool.statistics.openConnections)
                            pids.insert(try pid(conn))
                            _ = try conn.query("SELECT pg_sleep(0.005)")
                            _ = concurrentLoans.decrement()
                        }
                    }
                    return pids
                }
            }
            var allPIDs: Set<Int32> = []
            for thread in threads { allPIDs.formUnion(try thread.join()) }
            #expect(highestOpen.current <= 3)
            #expect(highestConcurrent.current <= 3)
            #expect(allPIDs.count <= 3)
            #expect(pool.statistics.openConnections <= 3)
            #expect(pool.statistics.waitingThreads == 0)
        }
    }

    @Test func exhaustedPoolAnswersWithTheTimeoutErrorWithinTheBound() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, acquireTimeout: .milliseconds(300), logger: TestDatabase.logger)
            defer { pool.close() }
            let holding = TestSignal(), release = TestSignal()
            let holder = TestThread {
                try pool.withConnection { _ in
                    holding.fire()
                    try release.wait()
                }
            }
            try holding.wait()
            let started = ContinuousClock.now
            let error = expectPostgresError { try pool.withConnection { _ in } }
            let waited = ContinuousClock.now - started
            release.fire()
            try holder.join()

            #expect(error?.kind == .poolTimeout)
            #expect(error?.message == "timed out after 0.3 s waiting for a database connection (pool of 1 in use)")
            #expect(waited >= .milliseconds(290))
            #expect(waited < .seconds(2))
            // The pool works again once the connection is back.
            #expect(try pool.withConnection { try $0.query("SELECT 1").first!.decode(0, as: Int.self) } == 1)
        }
    }

    @Test func waiterGetsTheConnectionWhenItIsReturned() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, acquireTimeout: .seconds(10), logger: TestDatabase.logger)
            defer { pool.close() }
            let holding = TestSignal()
            let holder = TestThread { () throws -> Int32 in
                try pool.withConnection { conn throws in
                    holding.fire()
                    usleep(200_000)
                    return try pid(conn)
                }
            }
            try holding.wait()
            let started = ContinuousClock.now
            let waiterPID = try pool.withConnection { try pid($0) }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try holder.join() == waiterPID)
        }
    }

    @Test func connectionKilledWhileIdleIsReplacedTransparently() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 2, logger: TestDatabase.logger)
            defer { pool.close() }
            let before = try pool.withConnection { try pid($0) }
            try TestDatabase.terminate(before)
            let after = try pool.withConnection { try pid($0) }
            #expect(after != before)
            #expect(pool.statistics.openConnections == 1)
        }
    }

    @Test func connectionKilledBeforeTheFirstStatementOfALoanReconnectsAndRetries() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            _ = try pool.withConnection { try pid($0) }  // one idle connection
            let (before, after, value) = try pool.withConnection { conn throws in
                // The kill lands after the pool's idle check: only the in-loan rule can save it.
                let before = conn.backendPID
                try TestDatabase.terminate(before)
                let value = try conn.query("SELECT 41 + 1").first!.decode(0, as: Int.self)
                return (before, conn.backendPID, value)
            }
            #expect(value == 42)
            #expect(after != before)
            #expect(pool.statistics.openConnections == 1)
        }
    }

    @Test func firstStatementTerminatedWhileRunningIsSentAgain() throws {
        try TestDatabase.withDatabase { config in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            _ = try pool.withConnection { try pid($0) }
            let (before, after) = try pool.withConnection { conn in
                let before = conn.backendPID
                // The kill lands while the statement runs, after the pre-send check.
                let killer = TestThread {
                    usleep(300_000)
                    try TestDatabase.terminate(before)
                }
                let after = try conn.query("SELECT pg_backend_pid() FROM pg_sleep(1)").first!.decode(0, as: Int32.self)
                try killer.join()
                return (before, after)
            }
            #expect(after != before)
        }
    }

    @Test func simpleExecuteTextTerminatedWhileRunningIsNotSentAgain() throws {
        try TestDatabase.withDatabase { config in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            _ = try pool.withConnection { try pid($0) }
            let error = expectPostgresError {
                try pool.withConnection { conn in
                    let pid = conn.backendPID
                    let killer = TestThread {
                        usleep(300_000)
                        try TestDatabase.terminate(pid)
                    }
                    defer { _ = try? killer.join() }
                    // Text like this may commit part of itself; it must not run twice.
                    try conn.simpleExecute("CREATE TABLE t (x int); COMMIT; SELECT pg_sleep(1)")
                }
            }
            #expect(error?.kind == .connectionLost)
            #expect(error?.code == .adminShutdown)
            #expect(error?.message.contains("terminating connection") == true)
        }
    }

    @Test func failedReconnectIsAConnectionFailureAndTheConnectionIsDiscarded() throws {
        try TestDatabase.withDatabase { config in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            _ = try pool.withConnection { try pid($0) }
            let error = expectPostgresError {
                try pool.withConnection { conn in
                    let admin = try TestDatabase.adminConnection()
                    defer { admin.close() }
                    try admin.execute("ALTER DATABASE \(identifier: config.database!) ALLOW_CONNECTIONS false")
                    try TestDatabase.terminate(conn.backendPID)
                    _ = try conn.query("SELECT 1")
                }
            }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message.contains("reconnect") == true)
            #expect(pool.statistics.openConnections == 0)
        }
    }

    @Test func connectionKilledAfterWorkInTheLoanIsNotRetriedAndIsDiscarded() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            _ = try pool.withConnection { try pid($0) }
            let error = expectPostgresError {
                try pool.withConnection { conn throws in
                    _ = try conn.query("SELECT 1")  // work done: a retry could repeat or lose it
                    try TestDatabase.terminate(conn.backendPID)
                    _ = try conn.query("SELECT 2")
                }
            }
            #expect(error?.isConnectionLost == true)
            #expect(pool.statistics.openConnections == 0)  // discarded on return
            #expect(try pool.withConnection { try $0.query("SELECT 3").first!.decode(0, as: Int.self) } == 3)
        }
    }

    @Test func newConnectionsAreNotReconnectedBehindTheCallersBack() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            let error = expectPostgresError {
                try pool.withConnection { conn throws in
                    try TestDatabase.terminate(conn.backendPID)  // a fresh connection, not an idle one
                    _ = try conn.query("SELECT 1")
                }
            }
            #expect(error?.kind == .connectionLost)
            #expect(error?.code == .adminShutdown)
        }
    }

    @Test func connectionReturnedInsideATransactionIsRolledBack() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            try pool.withConnection { try $0.simpleExecute("CREATE TABLE t (x int)") }
            try pool.withConnection { conn throws in
                try conn.simpleExecute("BEGIN")
                try conn.execute("INSERT INTO t VALUES (1)")
            }
            let (status, count) = try pool.withConnection { conn throws in
                (conn.transactionStatus, try conn.query("SELECT count(*) FROM t").first!.decode(0, as: Int.self))
            }
            #expect(status == .idle)
            #expect(count == 0)
        }
    }

    @Test func closedPoolRefusesLoansAndWakesWaiters() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, acquireTimeout: .seconds(30), logger: TestDatabase.logger)
            let holding = TestSignal(), release = TestSignal()
            let holder = TestThread {
                try pool.withConnection { _ in
                    holding.fire()
                    try release.wait()
                }
            }
            try holding.wait()
            let waiter = TestThread { () -> PostgresError? in
                expectPostgresError { try pool.withConnection { _ in } }
            }
            while pool.statistics.waitingThreads == 0 { usleep(1000) }
            let started = ContinuousClock.now
            pool.close()
            let waiterError = try waiter.join()
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(waiterError?.kind == .poolClosed)
            release.fire()
            try holder.join()
            #expect(pool.statistics.openConnections == 0)  // the lent one was closed on return

            let error = expectPostgresError { try pool.withConnection { _ in } }
            #expect(error?.kind == .poolClosed)
            pool.close()  // idempotent
        }
    }

    @Test func failedConnectAttemptDoesNotLeakItsPermit() throws {
        let config = try PostgresConfiguration(url: "host=127.0.0.1 port=1 dbname=x user=x")
        let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1, acquireTimeout: .milliseconds(200), logger: TestDatabase.logger)
        for _ in 0..<3 {
            let error = expectPostgresError { try pool.withConnection { _ in } }
            #expect(error?.kind == .connectionFailed)  // not .poolTimeout: the permit came back
        }
        #expect(pool.statistics.openConnections == 0)
    }

    @Test func durationsInMessagesAreReadable() {
        #expect(PostgresConnectionPool.format(.seconds(2)) == "2 s")
        #expect(PostgresConnectionPool.format(.milliseconds(300)) == "0.3 s")
        #expect(PostgresConnectionPool.format(.milliseconds(1250)) == "1.25 s")
        #expect(PostgresConnectionPool.format(.milliseconds(5)) == "0.005 s")
    }
}
