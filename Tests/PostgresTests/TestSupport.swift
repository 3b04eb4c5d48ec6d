import Foundation
import Logging
import Synchronization
import Testing
@testable import Postgres

#if canImport(Glibc)
import Glibc
#endif

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// The test cluster, and a private database per test so tests can run in parallel
/// with each other and with other test targets sharing the cluster.
enum TestDatabase {
    /// The connection string of the test cluster; fails (never skips) when it is missing.
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(description: """
                TEST_DATABASE_URL is not set: these tests need a real PostgreSQL. Run scripts/test.sh, \
                or start a throwaway cluster: d=$(mktemp -d /tmp/pgdev.XXXX); \
                export TEST_DATABASE_URL=$(scripts/test-postgres.sh start $d)
                """)
        }
        return url
    }

    /// The cluster's default database (for creating and dropping test databases).
    static func adminConfiguration() throws -> PostgresConfiguration {
        try PostgresConfiguration(url: url())
    }

    static func adminConnection() throws -> PostgresConnection {
        try PostgresConnection.connect(adminConfiguration(), logger: logger)
    }

    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Creates an empty database, runs `body` with a configuration for it, and drops it.
    static func withDatabase<Result>(_ body: (PostgresConfiguration) throws -> Result) throws -> Result {
        try withDatabase(configure: { _ in }, body)
    }

    /// `withDatabase`, with the configuration adjusted by `configure` first.
    static func withDatabase<Result>(
        configure customize: (inout PostgresConfiguration) -> Void,
        _ body: (PostgresConfiguration) throws -> Result
    ) throws -> Result {
        let name = "pgtest_" + UUID().uuidString.lowercased().filter { $0 != "-" }
        let admin = try adminConnection()
        try admin.query("CREATE DATABASE \(identifier: name) TEMPLATE template0 ENCODING 'UTF8'")
        defer {
            // FORCE: a test that failed half-way may have left connections open.
            _ = try? admin.query("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            admin.close()
        }
        var configuration = try adminConfiguration()
        configuration.database = name
        customize(&configuration)
        return try body(configuration)
    }

    /// `withDatabase` plus one open connection to it.
    static func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try withConnection(configure: { _ in }, body)
    }

    /// `withConnection`, with the configuration adjusted by `configure` first.
    static func withConnection<Result>(
        configure customize: (inout PostgresConfiguration) -> Void,
        _ body: (PostgresConnection) throws -> Result
    ) throws -> Result {
        try withDatabase(configure: customize) { configuration in
            let connection = try PostgresConnection.connect(configuration, logger: logger)
            defer { connection.close() }
            return try body(connection)
        }
    }

    /// Terminates a backend from another session and waits until it has exited, so the
    /// victim's socket already holds the server's goodbye.
    static func terminate(_ pid: Int32) throws {
        let admin = try adminConnection()
        defer { admin.close() }
        // The two-argument form waits (up to 5 s) for the process to exit.
        let terminated = try admin.query("SELECT pg_terminate_backend(\(pid), \(Int64(5000)))").first!.decode(0, as: Bool.self)
        try #require(terminated, "pg_terminate_backend(\(pid)) did not terminate the backend")
        for _ in 0..<500 {
            let alive = try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").first!.decode(0, as: Int.self)
            if alive == 0 { return }
            usleep(10_000)
        }
        throw TestSetupError(description: "backend \(pid) still alive 5 s after pg_terminate_backend")
    }
}

/// Runs `body` on its own thread (blocking calls do not belong on the cooperative pool);
/// `join()` waits for it and returns its result or rethrows its error.
final class TestThread<Value: Sendable>: Sendable {
    private final class Outcome: Sendable {
        let result = Mutex<Result<Value, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
    }

    private let outcome = Outcome()

    init(_ body: @escaping @Sendable () throws -> Value) {
        let outcome = self.outcome
        let thread = Thread {
            let result = Result { try body() }
            outcome.result.withLock { $0 = result }
            outcome.finished.signal()
        }
        thread.start()
    }

    func join() throws -> Value {
        outcome.finished.wait()
        return try outcome.result.withLock { $0! }.get()
    }
}

/// A one-shot signal between test threads, with a timeout so a broken test fails
/// instead of hanging.
final class TestSignal: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    func fire() { semaphore.signal() }

    func wait(seconds: Double = 10) throws {
        guard semaphore.wait(timeout: .now() + seconds) == .success else {
            throw TestSetupError(description: "timed out after \(seconds) s waiting for another test thread")
        }
    }
}

/// Captures an expected PostgresError (and fails the test if something else, or nothing, is thrown).
func expectPostgresError(
    _ sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> PostgresError? {
    do {
        try body()
        Issue.record("expected a PostgresError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PostgresError {
        return error
    } catch {
        Issue.record("expected a PostgresError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A counter shared between test threads.
final class TestCounter: Sendable {
    private let value = Mutex(0)

    @discardableResult
    func increment() -> Int { add(1) }

    @discardableResult
    func add(_ amount: Int) -> Int { value.withLock { $0 += amount; return $0 } }

    /// Records `candidate` if it is the largest seen.
    func recordMaximum(_ candidate: Int) { value.withLock { $0 = max($0, candidate) } }

    var current: Int { value.withLock { $0 } }
}

extension TestCounter {
    @discardableResult
    func decrement() -> Int { add(-1) }
}
