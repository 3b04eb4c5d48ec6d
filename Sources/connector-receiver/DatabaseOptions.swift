import ArgumentParser
import EmbeddedPostgres
import Foundation
import Logging
import Postgres

/// Where the database is: a `DATABASE_URL`, or the embedded cluster under --data-dir.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq connection string or URI of the database. (env: DATABASE_URL; without it: the embedded cluster)",
        valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp(
        "File holding the database URL (a trailing line break is ignored), e.g. a Docker secret. (env: DATABASE_URL_FILE; set this or DATABASE_URL, not both)",
        valueName: "path"))
    var databaseURLFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "session: the database URL is PostgreSQL itself or a pooler in session mode; transaction: it is PgBouncer with pool_mode = transaction (no session state, no startup options; set the statement timeout on the database role). (env: RECEIVER_DATABASE_POOL_MODE, default session)",
        valueName: "session|transaction"))
    var databasePoolMode: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds a database statement may run before PostgreSQL cancels it (a 503); serve waits 2 s more for a database that does not answer at all (stopped, hung), then gives the connection up; 0: no limit. A session setting, so not with --database-pool-mode transaction (set it on the role there). (env: RECEIVER_STATEMENT_TIMEOUT, default 10)",
        valueName: "seconds"))
    var statementTimeout: Double?

    @Option(name: .long, help: ArgumentHelp(
        "Data directory of the embedded PostgreSQL cluster, used when no database URL is given. (env: RECEIVER_DATA_DIR, default .data)",
        valueName: "path"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Directory of the numbered .sql migrations. (env: RECEIVER_MIGRATIONS_DIR; default: ./migrations, else the one beside the executable)",
        valueName: "path"))
    var migrationsDir: String?

    /// `--database-url`, else `--database-url-file`, else `DATABASE_URL_FILE` or
    /// `DATABASE_URL` (not both); nil: the embedded cluster.
    func resolvedDatabaseURL() throws -> String? {
        if let databaseURL { return databaseURL }
        return try SecretFile.resolve(flagFile: databaseURLFile, flagName: "--database-url-file", variable: "DATABASE_URL")?.value
    }

    func resolvedPoolMode() throws -> PostgresConfiguration.PoolMode {
        let name = databasePoolMode ?? Environment.value("RECEIVER_DATABASE_POOL_MODE") ?? "session"
        guard let mode = PostgresConfiguration.PoolMode(rawValue: name.lowercased()) else {
            throw ValidationError("--database-pool-mode (or RECEIVER_DATABASE_POOL_MODE) must be session or transaction, not \(name).")
        }
        return mode
    }
    var resolvedDataDir: String { dataDir ?? Environment.value("RECEIVER_DATA_DIR") ?? ".data" }

    /// The migrations directory: the flag, the environment, `./migrations`, or a
    /// `migrations` folder in one of the executable's parent directories (so
    /// `.build/release/connector-receiver` finds the repository's).
    func resolvedMigrationsDirectory() throws -> String {
        if let explicit = migrationsDir ?? Environment.value("RECEIVER_MIGRATIONS_DIR") {
            guard isDirectory(explicit) else {
                throw ValidationError("Migrations directory \(explicit) does not exist.")
            }
            return explicit
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/migrations"]
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("migrations").path)
            directory.deleteLastPathComponent()
        }
        candidates.append("/usr/share/connector-receiver/migrations")
        guard let found = candidates.first(where: isDirectory) else {
            throw ValidationError("No migrations directory found (looked in \(candidates.joined(separator: ", "))). Pass --migrations-dir.")
        }
        return found
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Starts the embedded cluster when no database URL is configured. With
    /// `attachToRunning`, a cluster already run by another connector-receiver
    /// process on the same data directory is used as it is.
    /// The statement timeout; nil: none. Only the flag or the variable set it in
    /// transaction mode, where it cannot be sent, is an error.
    func resolvedStatementTimeout(poolMode: PostgresConfiguration.PoolMode) throws -> Duration? {
        let text = statementTimeout.map { String($0) } ?? Environment.value("RECEIVER_STATEMENT_TIMEOUT")
        guard let text else { return poolMode == .session ? .seconds(10) : nil }
        guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
            throw ValidationError("--statement-timeout (or RECEIVER_STATEMENT_TIMEOUT) must be a number of seconds from 0 to 86400, not \(text).")
        }
        guard poolMode == .session else {
            throw ValidationError("--statement-timeout (or RECEIVER_STATEMENT_TIMEOUT) cannot be sent through a pooler in transaction mode; set it on the database role instead: ALTER ROLE <role> SET statement_timeout = '\(text)s'.")
        }
        return seconds == 0 ? nil : .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    func open(logger: Logger, attachToRunning: Bool = false) throws -> DatabaseHandle {
        let poolMode = try resolvedPoolMode()
        let timeout = try resolvedStatementTimeout(poolMode: poolMode)
        if let url = try resolvedDatabaseURL() {
            if poolMode == .transaction {
                // Before any connection, and before the server's threads start.
                PostgresConfiguration.exportTrackedSessionParameters()
            }
            return DatabaseHandle(url: url, poolMode: poolMode, statementTimeout: timeout, embedded: nil)
        }
        guard poolMode == .session else {
            throw ValidationError("--database-pool-mode transaction (or RECEIVER_DATABASE_POOL_MODE) needs a database URL: the embedded cluster has no pooler.")
        }
        let embedded = EmbeddedPostgres(dataDirectory: resolvedDataDir, logger: logger)
        logger.info("no DATABASE_URL: using the embedded PostgreSQL cluster", metadata: ["data-dir": "\(embedded.dataDirectory)"])
        let url = try embedded.start(attachToRunning: attachToRunning)
        return DatabaseHandle(url: url, poolMode: .session, statementTimeout: timeout, embedded: embedded)
    }
}

/// The database the command works on; `close()` stops the embedded cluster if there is one.
struct DatabaseHandle {
    let url: String
    let poolMode: PostgresConfiguration.PoolMode
    let statementTimeout: Duration?
    let embedded: EmbeddedPostgres?

    /// The connection settings of every connection to this database.
    func configuration() throws -> PostgresConfiguration {
        try PostgresConfiguration(url: url, statementTimeout: statementTimeout, poolMode: poolMode)
    }

    func close() {
        embedded?.stop()
    }
}
