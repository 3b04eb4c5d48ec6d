import Foundation
import Logging

/// Applies the numbered SQL files of a directory to a database, once each, in order.
///
/// Files are named `NNNN_name.sql` (`0001_initial.sql`, `0002_staff.sql`). Each
/// pending file runs in its own transaction together with the row that records it in
/// `schema_migrations(version, name, checksum, applied_at)`, so a migration is applied
/// entirely and recorded, or not at all. Consequently a file must not contain
/// `BEGIN`/`COMMIT` or statements that cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
///
/// Safe to run from several processes at once: the whole run holds
/// `pg_advisory_lock(Migrator.advisoryLockKey)`, so a second migrator waits, then finds
/// nothing left to do. Statement timeouts are off during a run (migrations may be slow,
/// and the lock wait may be long); they are restored afterwards.
///
/// Refuses to run, naming the file, when:
/// - a file name is not `NNNN_name.sql`, or two files share a number;
/// - a file is not UTF-8 or contains a NUL byte;
/// - an applied migration's file has changed (its SHA-256 differs from the recorded
///   one) or was renamed;
/// - an applied migration's file is missing.
///
/// Checksums are SHA-256 of the file bytes, computed by the server
/// (`encode(sha256(convert_to(text, 'UTF8')), 'hex')`; the file is UTF-8 and the
/// session encoding is UTF-8, so those are exactly the file's bytes).
public struct Migrator: Sendable {
    /// The advisory lock key held while migrating (the ASCII bytes of "connrecv").
    public static let advisoryLockKey: Int64 = 0x636F_6E6E_7265_6376

    /// The directory of migration files.
    public let directory: URL
    /// Where progress is logged (each applied file at `info`).
    public let logger: Logger

    /// A migrator for the migration files in `directory`.
    public init(directory: URL, logger: Logger = Logger(label: "postgres.migrator")) {
        self.directory = directory
        self.logger = logger
    }

    /// A migrator for the directory at `path` (e.g. `migrations` at the repository root).
    public init(directoryPath path: String, logger: Logger = Logger(label: "postgres.migrator")) {
        self.init(directory: URL(fileURLWithPath: path, isDirectory: true), logger: logger)
    }

    /// Reads and checks the migration files, sorted by version. Does not touch the database.
    ///
    /// Hidden files (starting with `.`) and subdirectories are ignored; every other
    /// entry must be a migration file.
    public func loadMigrations() throws(PostgresError) -> [Migration] {
        let fileManager = FileManager.default
        let names: [String]
        do {
            names = try fileManager.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(kind: .migration, message: "cannot read the migrations directory \(directory.path): \(error.localizedDescription)")
        }

        var migrations: [Migration] = []
        var badNames: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            guard let version = Migration.version(ofFileName: name) else {
                badNames.append(name)
                continue
            }
            guard let data = fileManager.contents(atPath: path) else {
                throw PostgresError(kind: .migration, message: "cannot read migration \(name) in \(directory.path)")
            }
            guard let sql = String(data: data, encoding: .utf8) else {
                throw PostgresError(kind: .migration, message: "migration \(name) is not valid UTF-8")
            }
            guard !sql.utf8.contains(0) else {
                throw PostgresError(kind: .migration, message: "migration \(name) contains a NUL byte")
            }
            migrations.append(Migration(version: version, fileName: name, sql: sql))
        }
        if !badNames.isEmpty {
            throw PostgresError(
                kind: .migration,
                message: "\(directory.path) contains files that are not named NNNN_name.sql (four digits, underscore, letters/digits/_/-, .sql): \(badNames.joined(separator: ", "))"
            )
        }
        migrations.sort { ($0.version, $0.fileName) < ($1.version, $1.fileName) }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw PostgresError(
                kind: .migration,
                message: "two migrations have the number \(CivilCalendar.padded(next.version, width: 4)): \(previous.fileName) and \(next.fileName); renumber one"
            )
        }
        return migrations
    }

    /// Migrates on a connection from `pool`. See ``migrate(on:)``.
    @discardableResult
    public func migrate(using pool: PostgresConnectionPool) throws -> [AppliedMigration] {
        try pool.withConnection { connection in try migrate(on: connection) }
    }

    /// Applies the pending migrations and returns them, in the order applied (empty
    /// when the database is up to date).
    ///
    /// - Throws: ``PostgresError`` of kind `.migration` naming the offending file (bad
    ///   name, duplicate number, changed or missing file, a failing statement with the
    ///   server's SQLSTATE), or the connection's errors.
    @discardableResult
    public func migrate(on connection: PostgresConnection) throws(PostgresError) -> [AppliedMigration] {
        let migrations = try loadMigrations()
        // A migration may rightly run long (an index build on a big table), and waiting
        // for another migrator's lock takes as long as that one runs: no timeout applies,
        // neither the server's statement timeout nor the client's response timeout.
        return try connection.withResponseTimeout(nil) { () throws(PostgresError) -> [AppliedMigration] in
            try migrate(migrations, on: connection)
        }
    }

    private func migrate(_ migrations: [Migration], on connection: PostgresConnection) throws(PostgresError) -> [AppliedMigration] {
        try connection.command("SET statement_timeout = 0")
        defer {
            if connection.isHealthy { _ = try? connection.command("RESET statement_timeout") }
        }
        try lock(connection)
        defer {
            if connection.isHealthy { _ = try? connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))") }
        }

        try connection.command("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)

        var recorded: [Int: AppliedMigration] = [:]
        for row in try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version") {
            let version = try row.decode(0, as: Int.self)
            recorded[version] = AppliedMigration(version: version, fileName: try row.decode(1), checksum: try row.decode(2))
        }

        let checksums = try self.checksums(of: migrations, on: connection)
        let files = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for applied in recorded.values.sorted(by: { $0.version < $1.version }) {
            guard let file = files[applied.version] else {
                throw PostgresError(
                    kind: .migration,
                    message: "migration \(applied.fileName) was applied to this database but its file is missing from \(directory.path); restore it (applied migrations must stay)"
                )
            }
            guard file.fileName == applied.fileName else {
                throw PostgresError(
                    kind: .migration,
                    message: "migration \(file.fileName) was applied under the name \(applied.fileName); rename it back"
                )
            }
            let checksum = checksums[file.version] ?? ""
            guard checksum == applied.checksum else {
                throw PostgresError(
                    kind: .migration,
                    message: "migration \(file.fileName) was changed after it was applied (checksum recorded \(applied.checksum), file now \(checksum)); revert the file and put the change in a new migration"
                )
            }
        }

        let pending = migrations.filter { recorded[$0.version] == nil }
        if let newestApplied = recorded.keys.max() {
            for migration in pending where migration.version < newestApplied {
                logger.warning("applying \(migration.fileName) after newer migrations were already applied")
            }
        }
        var applied: [AppliedMigration] = []
        for migration in pending {
            applied.append(try apply(migration, on: connection))
        }
        if applied.isEmpty {
            logger.debug("database schema is up to date", metadata: ["migrations": "\(migrations.count)"])
        }
        return applied
    }

    private func lock(_ connection: PostgresConnection) throws(PostgresError) {
        let acquired = try connection.query("SELECT pg_try_advisory_lock(\(Self.advisoryLockKey))")
            .first?.decode(0, as: Bool.self) ?? false
        if !acquired {
            logger.info("another process is migrating this database; waiting for it to finish")
            try connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
        }
    }

    private func checksums(of migrations: [Migration], on connection: PostgresConnection) throws(PostgresError) -> [Int: String] {
        guard !migrations.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT n, encode(sha256(convert_to(t, 'UTF8')), 'hex')
            FROM unnest(\(migrations.map(\.sql))) WITH ORDINALITY AS f(t, n)
            """)
        var result: [Int: String] = [:]
        for row in rows {
            let position = try row.decode(0, as: Int.self)
            result[migrations[position - 1].version] = try row.decode(1, as: String.self)
        }
        return result
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) throws(PostgresError) -> AppliedMigration {
        logger.info("applying migration \(migration.fileName)")
        let started = ContinuousClock.now
        do {
            let checksum = try connection.transaction { connection in
                // The record goes in first: should the file commit on its own (which it
                // must not), whatever it committed is at least recorded with it, instead
                // of being applied again by the next run.
                let checksum = try connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum, applied_at)
                    VALUES (\(migration.version), \(migration.fileName), encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'), now())
                    RETURNING checksum
                    """).first!.decode(0, as: String.self)
                try connection.simpleExecute(migration.sql)
                return checksum
            }
            logger.info("applied migration \(migration.fileName)", metadata: ["duration": "\(ContinuousClock.now - started)"])
            return AppliedMigration(version: migration.version, fileName: migration.fileName, checksum: checksum)
        } catch let error as PostgresError where error.kind == .invalidUsage {
            throw PostgresError(
                kind: .migration,
                message: "migration \(migration.fileName) ended its transaction itself (COMMIT or ROLLBACK in the file), so it may be only partly applied; check the database by hand, and remove transaction control from migration files (each one already runs in a transaction)"
            )
        } catch let error as PostgresError {
            // Keep the kind of a lost connection (callers may act on isConnectionLost);
            // everything else is this migration's failure. The SQLSTATE and diagnostics stay.
            var failure = error
            if !error.isConnectionLost { failure.kind = .migration }
            failure.message = "migration \(migration.fileName) failed: \(error.message)"
            throw failure
        } catch {
            throw PostgresError(kind: .migration, message: "migration \(migration.fileName) failed: \(error)")
        }
    }
}
