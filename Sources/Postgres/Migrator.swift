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
/// Safe to run from several processes at once, and through a connection pooler in
/// transaction mode (PgBouncer `pool_mode = transaction`), because the migrator keeps
/// no session state: every step is a transaction that first takes
/// `pg_advisory_xact_lock(Migrator.advisoryLockKey)` (released by its `COMMIT` or
/// `ROLLBACK`) and turns the statement timeout off with `SET LOCAL` (migrations may be
/// slow, and the lock wait may be long). The steps are the check of the recorded
/// migrations against the files, then one transaction per pending file, which first
/// looks again whether another migrator applied that file meanwhile and then skips it.
/// So concurrent migrators apply every file exactly once, in order, whichever of them
/// applies it. (A session-level `pg_advisory_lock` would not survive transaction
/// pooling: the lock, the statements and the unlock may each run on another server
/// session, leaving the lock held by a session that nobody unlocks.)
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
        let recorded = try locked(on: connection) { connection throws(PostgresError) in
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
                try verify(file, against: applied, checksum: checksums[file.version] ?? "")
            }
            return recorded
        }

        let pending = migrations.filter { recorded[$0.version] == nil }
        if let newestApplied = recorded.keys.max() {
            for migration in pending where migration.version < newestApplied {
                logger.warning("applying \(migration.fileName) after newer migrations were already applied")
            }
        }
        var applied: [AppliedMigration] = []
        for migration in pending {
            if let done = try apply(migration, on: connection) { applied.append(done) }
        }
        if applied.isEmpty {
            logger.debug("database schema is up to date", metadata: ["migrations": "\(migrations.count)"])
        }
        return applied
    }

    /// Runs `body` in a transaction holding the migration lock, with no statement
    /// timeout; the lock and the setting end with the transaction.
    private func locked<Result>(
        on connection: PostgresConnection,
        _ body: (PostgresConnection) throws(PostgresError) -> Result
    ) throws(PostgresError) -> Result {
        do {
            return try connection.transaction { connection in
                try connection.command("SET LOCAL statement_timeout = 0")
                let acquired = try connection.query("SELECT pg_try_advisory_xact_lock(\(Self.advisoryLockKey))")
                    .first?.decode(0, as: Bool.self) ?? false
                if !acquired {
                    logger.info("another process is migrating this database; waiting for it to finish")
                    try connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))")
                }
                return try body(connection)
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(kind: .migration, message: "\(error)")
        }
    }

    /// Refuses an applied migration whose file was renamed or changed since.
    private func verify(_ file: Migration, against applied: AppliedMigration, checksum: String) throws(PostgresError) {
        guard file.fileName == applied.fileName else {
            throw PostgresError(
                kind: .migration,
                message: "migration \(file.fileName) was applied under the name \(applied.fileName); rename it back"
            )
        }
        guard checksum == applied.checksum else {
            throw PostgresError(
                kind: .migration,
                message: "migration \(file.fileName) was changed after it was applied (checksum recorded \(applied.checksum), file now \(checksum)); revert the file and put the change in a new migration"
            )
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

    /// Applies one migration in a transaction of its own, or returns nil when another
    /// migrator applied it since this one looked.
    private func apply(_ migration: Migration, on connection: PostgresConnection) throws(PostgresError) -> AppliedMigration? {
        let started = ContinuousClock.now
        do throws(PostgresError) {
            let checksum: String? = try locked(on: connection) { connection throws(PostgresError) in
                let checksum = try connection.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')")
                    .first!.decode(0, as: String.self)
                if let row = try connection.query("SELECT name, checksum FROM schema_migrations WHERE version = \(migration.version)").first {
                    let applied = AppliedMigration(version: migration.version, fileName: try row.decode(0), checksum: try row.decode(1))
                    try verify(migration, against: applied, checksum: checksum)
                    logger.info("migration \(migration.fileName) was applied by another process meanwhile")
                    return nil
                }
                logger.info("applying migration \(migration.fileName)")
                // The record goes in first: should the file commit on its own (which it
                // must not), whatever it committed is at least recorded with it, instead
                // of being applied again by the next run.
                try connection.execute("""
                    INSERT INTO schema_migrations (version, name, checksum, applied_at)
                    VALUES (\(migration.version), \(migration.fileName), \(checksum), now())
                    """)
                try connection.simpleExecute(migration.sql)
                return checksum
            }
            guard let checksum else { return nil }
            logger.info("applied migration \(migration.fileName)", metadata: ["duration": "\(ContinuousClock.now - started)"])
            return AppliedMigration(version: migration.version, fileName: migration.fileName, checksum: checksum)
        } catch where error.kind == .invalidUsage {
            throw PostgresError(
                kind: .migration,
                message: "migration \(migration.fileName) ended its transaction itself (COMMIT or ROLLBACK in the file), so it may be only partly applied; check the database by hand, and remove transaction control from migration files (each one already runs in a transaction)"
            )
        } catch where error.kind == .migration && error.code == nil {
            throw error  // a changed or renamed file, already named
        } catch {
            // Keep the kind of a lost connection (callers may act on isConnectionLost);
            // everything else is this migration's failure. The SQLSTATE and diagnostics stay.
            var failure = error
            if !error.isConnectionLost { failure.kind = .migration }
            failure.message = "migration \(migration.fileName) failed: \(error.message)"
            throw failure
        }
    }
}
