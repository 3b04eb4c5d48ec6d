import Foundation
import Logging
import Postgres
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The test cluster that `scripts/test.sh` starts (`TEST_DATABASE_URL`), and a private
/// database per test on it, so tests run in parallel with each other and with other test
/// targets sharing the cluster.
public enum TestDatabase {
    /// Logs only what would make a test fail to make sense (pools and migrations are chatty).
    public static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical
        return logger
    }()

    /// The connection string of the test cluster; fails (never skips) when it is missing.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(description: """
                TEST_DATABASE_URL is not set: these tests need a real PostgreSQL. Run scripts/test.sh, \
                or start a throwaway cluster: d=$(mktemp -d /tmp/pgdev.XXXX); \
                export TEST_DATABASE_URL=$(scripts/test-postgres.sh start $d)
                """)
        }
        return url
    }

    /// The test cluster's keyword/value connection string with `dbname` replaced: for a
    /// program under test that takes a `DATABASE_URL`.
    public static func url(ofDatabase name: String) throws -> String {
        let others = try url().split(separator: " ").filter { !$0.hasPrefix("dbname=") }
        return (others + ["dbname=\(name)"]).joined(separator: " ")
    }

    /// The cluster's default database (for creating and dropping test databases).
    public static func adminConfiguration() throws -> PostgresConfiguration {
        try PostgresConfiguration(url: url())
    }

    public static func adminConnection() throws -> PostgresConnection {
        try PostgresConnection.connect(adminConfiguration(), logger: logger)
    }

    /// The repository's `migrations` directory.
    public static var migrationsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations").path
    }

    // MARK: Empty databases

    /// Creates an empty database, runs `body` with a configuration for it, and drops it.
    public static func withDatabase<Result>(_ body: (PostgresConfiguration) throws -> Result) throws -> Result {
        try withDatabase(configure: { _ in }, body)
    }

    /// `withDatabase`, with the configuration adjusted by `configure` first.
    public static func withDatabase<Result>(
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
    public static func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try withConnection(configure: { _ in }, body)
    }

    /// `withConnection`, with the configuration adjusted by `configure` first.
    public static func withConnection<Result>(
        configure customize: (inout PostgresConfiguration) -> Void,
        _ body: (PostgresConnection) throws -> Result
    ) throws -> Result {
        try withDatabase(configure: customize) { configuration in
            let connection = try PostgresConnection.connect(configuration, logger: logger)
            defer { connection.close() }
            return try body(connection)
        }
    }

    // MARK: Migrated databases

    private static let template = Mutex<String?>(nil)

    /// The template database holding the repository's migrations, created and migrated on
    /// first use, once per test process: copying it is much faster than migrating.
    public static func migratedTemplateName() throws -> String {
        try template.withLock { name in
            if let name { return name }
            let created = "receiver_template_\(getpid())_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try adminConnection()
            defer { admin.close() }
            try admin.query("CREATE DATABASE \(identifier: created) TEMPLATE template0 ENCODING 'UTF8'")
            var configuration = try adminConfiguration()
            configuration.database = created
            let connection = try PostgresConnection.connect(configuration, logger: logger)
            defer { connection.close() }
            try Migrator(directoryPath: migrationsDirectory, logger: logger).migrate(on: connection)
            name = created
            return created
        }
    }

    /// A fresh database with the repository's migrations applied, for one test; dropped afterwards.
    public static func withMigratedDatabase<Result>(_ body: (PostgresConfiguration) throws -> Result) throws -> Result {
        let template = try migratedTemplateName()
        let name = "receiver_test_" + UUID().uuidString.lowercased().filter { $0 != "-" }
        let admin = try adminConnection()
        defer { admin.close() }
        // CREATE DATABASE … TEMPLATE needs the template to have no other sessions; retry briefly.
        for attempt in 1...50 {
            do {
                try admin.query("CREATE DATABASE \(identifier: name) TEMPLATE \(identifier: template)")
                break
            } catch {
                let inUse = error.code == "55006"  // object_in_use: the template has a session
                if !inUse || attempt == 50 { throw error }
                usleep(100_000)
            }
        }
        defer { _ = try? admin.query("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)") }
        var configuration = try adminConfiguration()
        configuration.database = name
        return try body(configuration)
    }

    // MARK: Backends

    /// Terminates a backend from another session and waits until it has exited, so the
    /// victim's socket already holds the server's goodbye.
    public static func terminate(_ pid: Int32) throws {
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
