import Foundation
import Logging
import Postgres
import Synchronization
import Testing

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// A migrated database per test, copied from a template migrated once per test
/// process, on the cluster `scripts/test.sh` starts (`TEST_DATABASE_URL`).
enum TestDatabase {
    static let logger: Logger = {
        var logger = Logger(label: "receiver-tests")
        logger.logLevel = .critical
        return logger
    }()

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(description: """
                TEST_DATABASE_URL is not set: these tests need a real PostgreSQL. Run scripts/test.sh, \
                or start one: d=$(mktemp -d /tmp/pgdev.XXXX); export TEST_DATABASE_URL=$(scripts/test-postgres.sh start $d)
                """)
        }
        return url
    }

    static var migrationsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("migrations").path
    }

    private static let template = Mutex<String?>(nil)

    /// The template database, created and migrated on first use.
    static func templateName() throws -> String {
        try template.withLock { name in
            if let name { return name }
            let created = "receiver_template_\(getpid())_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try PostgresConnection.connect(try PostgresConfiguration(url: url()), logger: logger)
            defer { admin.close() }
            try admin.query("CREATE DATABASE \(identifier: created) TEMPLATE template0 ENCODING 'UTF8'")
            var configuration = try PostgresConfiguration(url: url())
            configuration.database = created
            let connection = try PostgresConnection.connect(configuration, logger: logger)
            defer { connection.close() }
            try Migrator(directoryPath: migrationsDirectory, logger: logger).migrate(on: connection)
            name = created
            return created
        }
    }

    /// A fresh migrated database for one test; dropped afterwards.
    static func withDatabase<Result>(_ body: (PostgresConfiguration) throws -> Result) throws -> Result {
        let template = try templateName()
        let name = "receiver_test_" + UUID().uuidString.lowercased().filter { $0 != "-" }
        let admin = try PostgresConnection.connect(try PostgresConfiguration(url: url()), logger: logger)
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
        var configuration = try PostgresConfiguration(url: url())
        configuration.database = name
        return try body(configuration)
    }
}
