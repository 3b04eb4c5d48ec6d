import ArgumentParser
import EmbeddedPostgres
import Foundation
import Logging

/// Where the database is: a `DATABASE_URL`, or the embedded cluster under --data-dir.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "libpq connection string or URI of the database. (env: DATABASE_URL; without it: the embedded cluster)",
        valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp(
        "Data directory of the embedded PostgreSQL cluster, used when no database URL is given. (env: RECEIVER_DATA_DIR, default .data)",
        valueName: "path"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Directory of the numbered .sql migrations. (env: RECEIVER_MIGRATIONS_DIR; default: ./migrations, else the one beside the executable)",
        valueName: "path"))
    var migrationsDir: String?

    var resolvedDatabaseURL: String? { databaseURL ?? Environment.value("DATABASE_URL") }
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
    func open(logger: Logger, attachToRunning: Bool = false) throws -> DatabaseHandle {
        if let url = resolvedDatabaseURL {
            return DatabaseHandle(url: url, embedded: nil)
        }
        let embedded = EmbeddedPostgres(dataDirectory: resolvedDataDir, logger: logger)
        logger.info("no DATABASE_URL: using the embedded PostgreSQL cluster", metadata: ["data-dir": "\(embedded.dataDirectory)"])
        let url = try embedded.start(attachToRunning: attachToRunning)
        return DatabaseHandle(url: url, embedded: embedded)
    }
}

/// The database the command works on; `close()` stops the embedded cluster if there is one.
struct DatabaseHandle {
    let url: String
    let embedded: EmbeddedPostgres?

    func close() {
        embedded?.stop()
    }
}
