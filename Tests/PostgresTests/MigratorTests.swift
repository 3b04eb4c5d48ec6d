import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Migrator")
struct MigratorTests {
    /// A temporary migrations directory with the given files.
    final class MigrationDirectory {
        let url: URL

        init(_ files: [String: String]) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            for (name, contents) in files { try write(name, contents) }
        }

        func write(_ name: String, _ contents: String) throws {
            try Data(contents.utf8).write(to: url.appendingPathComponent(name))
        }

        func remove(_ name: String) throws {
            try FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }

        deinit { try? FileManager.default.removeItem(at: url) }

        var migrator: Migrator { Migrator(directory: url, logger: TestDatabase.logger) }
    }

    static let basic = [
        "0001_create.sql": "CREATE TABLE log (n serial PRIMARY KEY, step text NOT NULL);\nINSERT INTO log (step) VALUES ('first');\n",
        "0002_insert.sql": "INSERT INTO log (step) VALUES ('second');",
        "0010_more.sql": "INSERT INTO log (step) VALUES ('tenth'); ALTER TABLE log ADD COLUMN note text;",
    ]

    private func steps(_ conn: PostgresConnection) throws -> [String] {
        try conn.query("SELECT step FROM log ORDER BY n").map { try $0.decode(0, as: String.self) }
    }

    @Test func appliesPendingMigrationsInOrderAndRecordsThem() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            let applied = try directory.migrator.migrate(on: conn)
            #expect(applied.map(\.version) == [1, 2, 10])
            #expect(applied.map(\.fileName) == ["0001_create.sql", "0002_insert.sql", "0010_more.sql"])
            #expect(try steps(conn) == ["first", "second", "tenth"])
            let recorded = try conn.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode((Int, String, String, Date).self).1 } == applied.map(\.fileName))
            #expect(try recorded.map { try $0.decode("checksum", as: String.self) } == applied.map(\.checksum))
            #expect(conn.transactionStatus == .idle)
            #expect(try conn.query("SHOW statement_timeout").first!.decode(0, as: String.self) == "30s")  // restored
        }
    }

    @Test func checksumIsTheSHA256OfTheFileBytes() throws {
        let directory = try MigrationDirectory(["0001_one.sql": "SELECT 1;\n", "0002_empty.sql": "", "0003_utf8.sql": "-- é 🎉\nSELECT 'ü';"])
        try TestDatabase.withConnection { conn throws in
            let applied = try directory.migrator.migrate(on: conn)
            // Known digests (sha256sum of the same bytes).
            #expect(applied[0].checksum == "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd")
            #expect(applied[1].checksum == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(applied[2].checksum.count == 64)
        }
    }

    @Test func rerunIsANoOpAndNewFilesAreApplied() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            try directory.migrator.migrate(on: conn)
            #expect(try directory.migrator.migrate(on: conn).isEmpty)
            #expect(try steps(conn) == ["first", "second", "tenth"])
            try directory.write("0011_later.sql", "INSERT INTO log (step) VALUES ('eleventh');")
            #expect(try directory.migrator.migrate(on: conn).map(\.version) == [11])
            #expect(try steps(conn) == ["first", "second", "tenth", "eleventh"])
        }
    }

    @Test func changedFileIsNamed() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            try directory.migrator.migrate(on: conn)
            try directory.write("0002_insert.sql", "INSERT INTO log (step) VALUES ('SECOND');")
            try directory.write("0020_new.sql", "INSERT INTO log (step) VALUES ('never');")
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.kind == .migration)
            #expect(error?.message.contains("migration 0002_insert.sql was changed after it was applied (checksum") == true)
            #expect(try steps(conn) == ["first", "second", "tenth"])  // nothing else applied
        }
    }

    @Test func missingFileIsAnError() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            try directory.migrator.migrate(on: conn)
            try directory.remove("0002_insert.sql")
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.kind == .migration)
            #expect(error?.message.contains("0002_insert.sql") == true)
            #expect(error?.message.contains("missing") == true)
        }
    }

    @Test func renamedFileIsAnError() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            try directory.migrator.migrate(on: conn)
            try directory.remove("0002_insert.sql")
            try directory.write("0002_renamed.sql", Self.basic["0002_insert.sql"]!)
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.message.contains("0002_renamed.sql was applied under the name 0002_insert.sql") == true)
        }
    }

    @Test func badFileNamesAreListedAndNothingRuns() throws {
        let directory = try MigrationDirectory(Self.basic.merging([
            "3_short.sql": "SELECT 1;", "0004-dash.sql": "SELECT 1;", "0005_upper.SQL": "SELECT 1;",
            "0006_x.sql.bak": "SELECT 1;", "notes.txt": "hello", ".hidden": "ignored",
        ]) { $1 })
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("subdirectory"), withIntermediateDirectories: false)
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.kind == .migration)
            for name in ["3_short.sql", "0004-dash.sql", "0005_upper.SQL", "0006_x.sql.bak", "notes.txt"] {
                #expect(error?.message.contains(name) == true, "\(name) not named")
            }
            #expect(error?.message.contains(".hidden") == false)
            #expect(error?.message.contains("subdirectory") == false)
            #expect(try conn.query("SELECT to_regclass('schema_migrations') IS NULL").first!.decode(0, as: Bool.self))
        }
    }

    @Test func fileNameRule() {
        #expect(Migration.version(ofFileName: "0001_initial.sql") == 1)
        #expect(Migration.version(ofFileName: "0042_add-staff_Table2.sql") == 42)
        for bad in ["001_x.sql", "00001_x.sql", "0001x.sql", "0001_.sql", "0001_a b.sql", "0001_é.sql", "0001_x.sql ", "abcd_x.sql", "0001_x.SQL", "0001_x"] {
            #expect(Migration.version(ofFileName: bad) == nil, "\(bad)")
        }
    }

    @Test func duplicateNumbersAreAnError() throws {
        let directory = try MigrationDirectory(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        let error = expectPostgresError { _ = try directory.migrator.loadMigrations() }
        #expect(error?.kind == .migration)
        #expect(error?.message.contains("0001_a.sql and 0001_b.sql") == true)
    }

    @Test func unreadableInputIsAnError() throws {
        let notUTF8 = try MigrationDirectory([:])
        try Data([0x53, 0x45, 0xFF, 0xFE]).write(to: notUTF8.url.appendingPathComponent("0001_bad.sql"))
        #expect(expectPostgresError { _ = try notUTF8.migrator.loadMigrations() }?.message.contains("0001_bad.sql is not valid UTF-8") == true)

        let withNUL = try MigrationDirectory(["0001_nul.sql": "SELECT 1;\0"])
        #expect(expectPostgresError { _ = try withNUL.migrator.loadMigrations() }?.message.contains("0001_nul.sql contains a NUL byte") == true)

        let missing = Migrator(directoryPath: "/nonexistent/migrations")
        let error = expectPostgresError { _ = try missing.loadMigrations() }
        #expect(error?.kind == .migration)
        #expect(error?.message.contains("/nonexistent/migrations") == true)
    }

    @Test func failingMigrationIsRolledBackWithItsRecordAndNamed() throws {
        let directory = try MigrationDirectory([
            "0001_ok.sql": "CREATE TABLE a (x int);",
            "0002_broken.sql": "CREATE TABLE b (x int);\nINSERT INTO missing_table VALUES (1);",
            "0003_after.sql": "CREATE TABLE c (x int);",
        ])
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.kind == .migration)
            #expect(error?.code == .undefinedTable)
            #expect(error?.message.hasPrefix("migration 0002_broken.sql failed:") == true)
            let exists = try conn.query("SELECT to_regclass('a') IS NOT NULL, to_regclass('b') IS NOT NULL, to_regclass('c') IS NOT NULL").first!
            #expect(try exists.decode((Bool, Bool, Bool).self) == (true, false, false))
            #expect(try conn.query("SELECT array_agg(version ORDER BY version) FROM schema_migrations").first!.decode(0, as: [Int].self) == [1])
            #expect(try conn.query("SELECT pg_try_advisory_lock(\(Migrator.advisoryLockKey))").first!.decode(0, as: Bool.self))  // lock released
        }
    }

    @Test func migrationThatCommitsItselfIsRefused() throws {
        let directory = try MigrationDirectory(["0001_commits.sql": "CREATE TABLE a (x int); COMMIT;"])
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError { try directory.migrator.migrate(on: conn) }
            #expect(error?.kind == .migration)
            #expect(error?.message.contains("migration 0001_commits.sql ended its transaction itself") == true)
            // What it committed is recorded with it, so the next run does not apply it again.
            #expect(try directory.migrator.migrate(on: conn).isEmpty)
        }
    }

    @Test func racingMigratorsApplyEachMigrationOnce() throws {
        let directory = try MigrationDirectory([
            "0001_slow.sql": "CREATE TABLE log (n serial, step text); SELECT pg_sleep(0.3); INSERT INTO log (step) VALUES ('one');",
            "0002_next.sql": "INSERT INTO log (step) VALUES ('two');",
            "0003_last.sql": "CREATE TABLE only_once (x int); INSERT INTO log (step) VALUES ('three');",
        ])
        let migrator = directory.migrator
        try TestDatabase.withDatabase { config throws in
            let start = TestSignal(), start2 = TestSignal()
            let racers = [start, start2].map { signal in
                TestThread { () throws -> [Int] in
                    let conn = try PostgresConnection.connect(config)
                    defer { conn.close() }
                    try signal.wait()
                    return try migrator.migrate(on: conn).map(\.version)
                }
            }
            start.fire()
            start2.fire()
            let results = try racers.map { try $0.join() }
            // Each file once, whichever migrator got to it (the lock is taken per
            // transaction, so the two may share the work), each in order.
            #expect(results.flatMap { $0 }.sorted() == [1, 2, 3])
            #expect(results.allSatisfy { $0 == $0.sorted() })
            let conn = try PostgresConnection.connect(config)
            #expect(try steps(conn) == ["one", "two", "three"])
            #expect(try conn.query("SELECT count(*) FROM schema_migrations").first!.decode(0, as: Int.self) == 3)
        }
    }

    /// Nothing outlives a run on the session: no advisory lock, no setting. So a
    /// pooler in transaction mode may lend its server sessions to others between the
    /// migrator's transactions.
    @Test func leavesNoSessionState() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("SET statement_timeout = '7s'")
            #expect(try directory.migrator.migrate(on: conn).count == 3)
            let locks = try conn.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            #expect(try locks.first!.decode(0, as: Int.self) == 0)
            #expect(try conn.query("SHOW statement_timeout").first!.decode(0, as: String.self) == "7s")
            #expect(conn.transactionStatus == .idle)
        }
    }

    @Test func aMigratorWaitsForTheLockHeldByAnotherTransaction() throws {
        let directory = try MigrationDirectory(Self.basic)
        let migrator = directory.migrator
        defer { withExtendedLifetime(directory) {} }
        try TestDatabase.withDatabase { config throws in
            let holder = try PostgresConnection.connect(config)
            defer { holder.close() }
            try holder.command("BEGIN")
            try holder.query("SELECT pg_advisory_xact_lock(\(Migrator.advisoryLockKey))")
            let started = TestSignal()
            let waiting = TestThread { () throws -> [Int] in
                let conn = try PostgresConnection.connect(config)
                defer { conn.close() }
                started.fire()
                return try migrator.migrate(on: conn).map(\.version)
            }
            try started.wait()
            usleep(300_000)
            let probe = try PostgresConnection.connect(config)
            defer { probe.close() }
            #expect(try probe.query("SELECT to_regclass('log') IS NULL").first!.decode(0, as: Bool.self), "migrated while the lock was held")
            try holder.command("COMMIT")
            #expect(try waiting.join() == [1, 2, 10])
        }
    }

    @Test func migratesThroughAPool() throws {
        let directory = try MigrationDirectory(Self.basic)
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 2, logger: TestDatabase.logger)
            defer { pool.close() }
            #expect(try directory.migrator.migrate(using: pool).count == 3)
            #expect(try directory.migrator.migrate(using: pool).isEmpty)
        }
    }
}
