import Foundation
import TestSupport
import Testing
@testable import Postgres

#if canImport(Glibc)
import Glibc
#endif

/// The client-side deadline of every statement (`responseTimeout`): a server that does
/// not answer, because it is stopped (SIGSTOP of the session's server process, as a hung
/// or frozen host looks to the client), cannot hold the caller longer.
@Suite("Response timeout")
struct ResponseTimeoutTests {
    /// Only the client's deadline: no server-side statement timeout to help.
    private static func clientDeadline(_ timeout: Duration) -> (inout PostgresConfiguration) -> Void {
        { configuration in
            configuration.statementTimeout = nil
            configuration.responseTimeout = timeout
        }
    }

    /// Stops the session's server process for the duration of `body`, as a hung server.
    private static func withBackendStopped<Result>(_ pid: Int32, _ body: () throws -> Result) throws -> Result {
        try #require(pid > 0 && kill(pid, SIGSTOP) == 0, "cannot stop backend \(pid): errno \(errno)")
        defer { kill(pid, SIGCONT) }
        return try body()
    }

    /// Whether server process `pid` still exists, asked from another session.
    private static func backendExists(_ pid: Int32) throws -> Bool {
        let admin = try TestDatabase.adminConnection()
        defer { admin.close() }
        return try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").first!.decode(0, as: Int.self) > 0
    }

    @Test func aStatementPastTheResponseTimeoutIsCancelledOnTheServerAndTheConnectionClosed() throws {
        try TestDatabase.withConnection(configure: Self.clientDeadline(.milliseconds(500))) { conn throws in
            let pid = conn.backendPID
            let started = ContinuousClock.now
            let error = expectPostgresError { try conn.query("SELECT pg_sleep(60)") }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(500) && waited < .seconds(3), "waited \(waited)")
            #expect(error?.kind == .connectionLost)
            #expect(error?.message.contains("did not answer within 0.5 s") == true, "\(String(describing: error))")
            #expect(error?.query == "SELECT pg_sleep(60)")
            #expect(!conn.isHealthy)
            let after = expectPostgresError { try conn.query("SELECT 1") }
            #expect(after?.kind == .connectionLost)
            // The cancel request ended pg_sleep (nothing else would: the server does not
            // read the closed socket while the statement runs), so the session ends soon.
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try !Self.backendExists(pid)
                if !gone { usleep(50_000) }
            }
            #expect(gone, "the abandoned statement still runs on the server: no cancel request reached it")
        }
    }

    @Test func aStoppedServerCannotHoldAStatement() throws {
        try TestDatabase.withConnection(configure: Self.clientDeadline(.seconds(1))) { conn throws in
            let started = ContinuousClock.now
            let error = try Self.withBackendStopped(conn.backendPID) {
                expectPostgresError { try conn.query("SELECT 1") }
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .seconds(1) && waited < .seconds(3), "waited \(waited)")
            #expect(error?.kind == .connectionLost)
            #expect(!conn.isHealthy)
        }
    }

    @Test func aStoppedServerCannotHoldAStatementBeingSent() throws {
        // Far more than the socket buffers hold: sending blocks until the server reads.
        let large = String(repeating: "x", count: 8 << 20)
        try TestDatabase.withConnection(configure: Self.clientDeadline(.seconds(1))) { conn throws in
            let started = ContinuousClock.now
            let error = try Self.withBackendStopped(conn.backendPID) {
                expectPostgresError { try conn.query("SELECT length(\(large))") }
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .seconds(1) && waited < .seconds(4), "waited \(waited)")
            #expect(error?.kind == .connectionLost)
        }
    }

    @Test func aCommitThatGetsNoAnswerIsCommitOutcomeUnknown() throws {
        try TestDatabase.withConnection(configure: Self.clientDeadline(.seconds(1))) { conn throws in
            try conn.simpleExecute("CREATE TABLE t (x int)")
            let pid = conn.backendPID
            try #require(pid > 0)
            defer { kill(pid, SIGCONT) }
            var attempts = 0
            let started = ContinuousClock.now
            let error = expectPostgresError {
                try conn.transaction(retries: 3) { conn in
                    attempts += 1
                    try conn.execute("INSERT INTO t VALUES (1)")
                    // The server stops answering after the body: COMMIT gets no answer.
                    kill(pid, SIGSTOP)
                }
            }
            kill(pid, SIGCONT)
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(attempts == 1)
            #expect(error?.kind == .commitOutcomeUnknown)
            #expect(error?.message.contains("may or may not have committed") == true)
            #expect(!conn.isHealthy)
        }
    }

    @Test func aServerThatAcceptsButNeverAnswersFailsTheConnectWithinTheConnectTimeout() throws {
        // A listening socket that nobody serves: the kernel completes the TCP handshake,
        // then libpq waits for an answer to its start-up packet that never comes.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(listener, 16) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let configuration = try PostgresConfiguration(
            url: "host=127.0.0.1 port=\(port) user=nobody dbname=nothing sslmode=disable", connectTimeout: .seconds(2))

        let started = ContinuousClock.now
        let direct = expectPostgresError { _ = try PostgresConnection.connect(configuration, logger: TestDatabase.logger) }
        #expect(direct?.kind == .connectionFailed)
        #expect(ContinuousClock.now - started < .seconds(4), "connect waited \(ContinuousClock.now - started)")

        let pool = PostgresConnectionPool(configuration: configuration, maximumConnections: 2, acquireTimeout: .seconds(1), logger: TestDatabase.logger)
        defer { pool.close() }
        let poolStarted = ContinuousClock.now
        let pooled = expectPostgresError { try pool.withConnection { _ in } }
        #expect(pooled?.kind == .connectionFailed)
        #expect(ContinuousClock.now - poolStarted < .seconds(4))
        #expect(pool.statistics.openConnections == 0)
    }

    @Test func migrationsWaitAsLongAsTheyNeed() throws {
        let directory = try MigratorTests.MigrationDirectory(["0001_slow.sql": "CREATE TABLE slow (x int); SELECT pg_sleep(1.2);"])
        try TestDatabase.withDatabase(configure: Self.clientDeadline(.milliseconds(400))) { configuration throws in
            let conn = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            defer { conn.close() }
            let holder = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            defer { holder.close() }
            // Another migrator holds the lock for longer than the response timeout.
            try holder.query("SELECT pg_advisory_lock(\(Migrator.advisoryLockKey))")
            let release = TestThread<Void> {
                usleep(1_000_000)
                try holder.query("SELECT pg_advisory_unlock(\(Migrator.advisoryLockKey))")
            }
            let applied = try directory.migrator.migrate(on: conn)
            try release.join()
            #expect(applied.map(\.fileName) == ["0001_slow.sql"])
            // The connection's own deadline is back afterwards.
            let error = expectPostgresError { try conn.query("SELECT pg_sleep(2)") }
            #expect(error?.kind == .connectionLost)
        }
    }
}
