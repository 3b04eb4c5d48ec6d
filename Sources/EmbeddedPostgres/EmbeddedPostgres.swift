import CLibPQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL cluster that connector-receiver initializes, starts and
/// stops itself: the embedded default used when no `DATABASE_URL` is given.
///
/// Layout of the data directory (`--data-dir`, default `.data/`):
///
///     .data/
///       receiver.lock     flock(2)-held while a connector-receiver process uses the directory
///       postgres.log      the server's log
///       pgdata/           the cluster (owned by the cluster user, mode 0700); its Unix
///                         socket lives here too, so only that user and root can connect
///
/// The server listens on that Unix socket only (`listen_addresses = ''`), so
/// local trust authentication is confined by the directory's permissions.
/// fsync, synchronous_commit and full_page_writes stay on: acknowledged writes
/// survive a crash of the program or the machine.
///
/// initdb and postgres refuse to run as root; when the program runs as root the
/// cluster runs as the unprivileged `postgres` system user (through `setpriv`).
///
/// If an earlier run was killed, its cluster may still be running: `start()`
/// stops that orphan cleanly and starts a cluster it owns. A stale
/// `postmaster.pid` whose process is gone is removed.
public final class EmbeddedPostgres: Sendable {
    /// The name of the database the receiver uses inside the cluster.
    public static let databaseName = "receiver"
    /// The cluster's superuser, which the receiver connects as.
    public static let superuserName = "receiver"
    /// Longest Unix socket path, sun_path minus its terminating NUL.
    static let socketPathLimit = 107

    public let dataDirectory: String
    private let logger: Logger
    private let state = Mutex<RunningState?>(nil)

    private struct RunningState: Sendable {
        var server: ChildProcess
        var lockFD: Int32
    }

    /// - Parameter dataDirectory: relative paths are resolved against the current directory.
    public init(dataDirectory: String, logger: Logger) {
        self.dataDirectory = Self.absolutePath(dataDirectory)
        self.logger = logger
    }

    var clusterDirectory: String { dataDirectory + "/pgdata" }
    var logPath: String { dataDirectory + "/postgres.log" }

    /// The libpq connection string (key=value form) for the receiver's database.
    public var connectionString: String {
        "host=\(Self.quoted(clusterDirectory)) dbname=\(Self.databaseName) user=\(Self.superuserName)"
    }

    // MARK: Start

    /// Initializes the cluster on first use, starts it, waits until it accepts
    /// connections and creates the receiver's database if needed. Returns the
    /// connection string.
    ///
    /// - Parameter attachToRunning: when another connector-receiver process owns
    ///   the data directory and its cluster is up, use that cluster instead of
    ///   failing (for short commands such as `migrate` and `turnup` run beside
    ///   `serve`); such an attachment never stops the cluster.
    @discardableResult
    public func start(timeoutSeconds: Int = 120, attachToRunning: Bool = false) throws(EmbeddedPostgresError) -> String {
        let binaries = try PostgresBinaries.locate()
        let clusterUser = try ClusterUser.forCurrentProcess()

        let socketPath = clusterDirectory + "/.s.PGSQL.5432"
        guard socketPath.utf8.count <= Self.socketPathLimit else {
            throw .socketPathTooLong(path: socketPath, limit: Self.socketPathLimit)
        }

        try makeDirectory(dataDirectory, mode: clusterUser == nil ? 0o700 : 0o711)
        let lockFD: Int32
        do {
            lockFD = try lockDataDirectory()
        } catch let error where attachToRunning && error.isDataDirectoryInUse && ping() == PQPING_OK {
            logger.info("using the embedded PostgreSQL cluster of the running connector-receiver", metadata: ["data-dir": "\(dataDirectory)"])
            return connectionString
        }
        do throws(EmbeddedPostgresError) {
            try initializeIfNeeded(binaries: binaries, clusterUser: clusterUser)
            try stopOrphanedServer(binaries: binaries, clusterUser: clusterUser)
            let server = try launch(binaries: binaries, clusterUser: clusterUser)
            state.withLock { $0 = RunningState(server: server, lockFD: lockFD) }
            do throws(EmbeddedPostgresError) {
                try waitUntilReady(server: server, timeoutSeconds: timeoutSeconds)
                try createDatabaseIfNeeded()
            } catch {
                stop()
                throw error
            }
        } catch {
            if state.withLock({ $0 == nil }) { close(lockFD) }
            throw error
        }
        logger.info("embedded PostgreSQL ready", metadata: ["data-dir": "\(dataDirectory)"])
        return connectionString
    }

    private func lockDataDirectory() throws(EmbeddedPostgresError) -> Int32 {
        let path = dataDirectory + "/receiver.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fileSystem(operation: "open", path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw .dataDirectoryInUse(path: dataDirectory, holder: holder.isEmpty ? "unknown pid" : "pid \(holder)")
        }
        // The lock dies with the process, even on SIGKILL; the pid is for the error message.
        ftruncate(fd, 0)
        let pidText = "\(getpid())\n"
        _ = pidText.withCString { write(fd, $0, strlen($0)) }
        return fd
    }

    private func initializeIfNeeded(binaries: PostgresBinaries, clusterUser: ClusterUser?) throws(EmbeddedPostgresError) {
        if access(clusterDirectory + "/PG_VERSION", F_OK) == 0 { return }
        // initdb writes into a scratch directory renamed into place only when it
        // succeeded, so a run killed during initdb never leaves a half-made cluster.
        let scratch = dataDirectory + "/pgdata.initializing"
        _ = try? ChildProcess.run(["/bin/rm", "-rf", scratch])
        try makeDirectory(scratch, mode: 0o700)
        if let clusterUser {
            guard chown(scratch, clusterUser.uid, clusterUser.gid) == 0 else {
                throw .fileSystem(operation: "change the owner of", path: scratch, errno: errno)
            }
            let probe = try ChildProcess.run(clusterUser.wrap(["/usr/bin/test", "-w", scratch]))
            guard probe.status == 0 else {
                _ = try? ChildProcess.run(["/bin/rm", "-rf", scratch])
                throw .dataDirectoryUnreachable(path: dataDirectory, user: clusterUser.name)
            }
        }
        logger.info("initializing the embedded PostgreSQL cluster", metadata: ["data-dir": "\(dataDirectory)"])
        let initdb = clusterUser.wrapIfNeeded([
            binaries.initdb, "--pgdata=\(scratch)", "--username=\(Self.superuserName)",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        ])
        let result = try ChildProcess.run(initdb)
        guard result.status == 0 else {
            throw .commandFailed(command: "initdb", status: result.status, output: result.output)
        }
        guard rename(scratch, clusterDirectory) == 0 else {
            throw .fileSystem(operation: "rename to pgdata", path: scratch, errno: errno)
        }
    }

    /// A server left running by an earlier run that was killed is stopped; a
    /// stale pid file whose process is gone (or is not PostgreSQL) is removed.
    /// Safe because this process holds the data directory lock.
    private func stopOrphanedServer(binaries: PostgresBinaries, clusterUser: ClusterUser?) throws(EmbeddedPostgresError) {
        let pidFile = clusterDirectory + "/postmaster.pid"
        guard let contents = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let firstLine = contents.split(separator: "\n").first,
              let pid = pid_t(firstLine.trimmingCharacters(in: .whitespaces))
        else { return }

        let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if kill(pid, 0) == 0, command == "postgres" {
            logger.notice("stopping a PostgreSQL server left running by an earlier run", metadata: ["pid": "\(pid)"])
            let stop = clusterUser.wrapIfNeeded([binaries.pgCtl, "stop", "--pgdata=\(clusterDirectory)", "--mode=fast", "--wait", "--timeout=60"])
            let result = try ChildProcess.run(stop)
            guard result.status == 0 else {
                throw .commandFailed(command: "pg_ctl stop", status: result.status, output: result.output)
            }
        } else {
            logger.notice("removing a stale PostgreSQL pid file", metadata: ["pid": "\(pid)"])
            unlink(pidFile)
        }
    }

    private func launch(binaries: PostgresBinaries, clusterUser: ClusterUser?) throws(EmbeddedPostgresError) -> ChildProcess {
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { throw .fileSystem(operation: "open", path: logPath, errno: errno) }
        defer { close(logFD) }
        let arguments = clusterUser.wrapIfNeeded([
            binaries.postgres, "-D", clusterDirectory,
            "-c", "listen_addresses=",
            "-c", "unix_socket_directories=\(clusterDirectory)",
            "-c", "unix_socket_permissions=0700",
            // Durability is not negotiable: these are the defaults, pinned here so a
            // hand-edited postgresql.conf cannot turn them off for the embedded default.
            "-c", "fsync=on",
            "-c", "synchronous_commit=on",
            "-c", "full_page_writes=on",
        ])
        return try ChildProcess.spawn(arguments, outputFD: logFD)
    }

    private func waitUntilReady(server: ChildProcess, timeoutSeconds: Int) throws(EmbeddedPostgresError) {
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while true {
            if let status = server.exitStatusIfEnded() {
                state.withLock { $0 = nil }
                throw .serverExited(status: status, logTail: logTail(), logPath: logPath)
            }
            if ping() == PQPING_OK { return }
            if ContinuousClock.now > deadline {
                throw .startTimedOut(seconds: timeoutSeconds, logTail: logTail(), logPath: logPath)
            }
            usleep(50_000)
        }
    }

    private func ping() -> PGPing {
        withConnectionParameters(database: "postgres") { keywords, values in
            PQpingParams(keywords, values, 0)
        }
    }

    private func createDatabaseIfNeeded() throws(EmbeddedPostgresError) {
        let message: String? = withConnectionParameters(database: "postgres") { keywords, values in
            guard let connection = PQconnectdbParams(keywords, values, 0) else { return "out of memory" }
            defer { PQfinish(connection) }
            guard PQstatus(connection) == CONNECTION_OK else { return String(cString: PQerrorMessage(connection)) }
            // Constant SQL: the database name is ours, nothing from outside is spliced in.
            let exists = PQexec(connection, "SELECT 1 FROM pg_database WHERE datname = '\(Self.databaseName)'")
            defer { PQclear(exists) }
            guard PQresultStatus(exists) == PGRES_TUPLES_OK else { return String(cString: PQerrorMessage(connection)) }
            if PQntuples(exists) == 1 { return nil }
            let create = PQexec(connection, "CREATE DATABASE \(Self.databaseName)")
            defer { PQclear(create) }
            guard PQresultStatus(create) == PGRES_COMMAND_OK else { return String(cString: PQerrorMessage(connection)) }
            return nil
        }
        if let message { throw .databaseCreationFailed(message) }
    }

    private func withConnectionParameters<Result>(
        database: String,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let pairs = [("host", clusterDirectory), ("dbname", database), ("user", Self.superuserName), ("connect_timeout", "5")]
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        return keywordPointers.withUnsafeBufferPointer { keywordBuffer in
            valuePointers.withUnsafeBufferPointer { valueBuffer in
                body(keywordBuffer.baseAddress!, valueBuffer.baseAddress!)
            }
        }
    }

    // MARK: Stop

    /// Stops the cluster (fast shutdown: open sessions are ended, everything
    /// committed is on disk) and releases the data directory. Idempotent.
    public func stop(timeoutSeconds: Int = 60) {
        guard let running = state.withLock({ state -> RunningState? in
            defer { state = nil }
            return state
        }) else { return }
        defer { close(running.lockFD) }

        // The postmaster is our child; as root we may signal it although it runs as postgres.
        kill(running.server.pid, SIGINT)
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while running.server.exitStatusIfEnded() == nil {
            if ContinuousClock.now > deadline {
                logger.warning("embedded PostgreSQL did not stop in time; stopping it immediately")
                kill(running.server.pid, SIGQUIT)
                running.server.wait()
                break
            }
            usleep(20_000)
        }
        logger.info("embedded PostgreSQL stopped")
    }

    /// Forgets the running cluster without stopping it and releases the data
    /// directory: what a SIGKILL of the program leaves behind (for tests).
    func releaseLockWithoutStopping() {
        guard let running = state.withLock({ state -> RunningState? in
            defer { state = nil }
            return state
        }) else { return }
        close(running.lockFD)
    }

    /// The pid of the running postmaster, if this instance started one.
    public var serverPID: Int32? { state.withLock { $0?.server.pid } }

    // MARK: Helpers

    private func makeDirectory(_ path: String, mode: mode_t) throws(EmbeddedPostgresError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .fileSystem(operation: "create the directory", path: path, errno: errno == 0 ? EACCES : errno)
        }
        guard chmod(path, mode) == 0 else {
            throw .fileSystem(operation: "set permissions on", path: path, errno: errno)
        }
    }

    private func logTail(lines: Int = 15) -> String {
        guard let log = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    static func absolutePath(_ path: String) -> String {
        var absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        // Normalize "./" and trailing slashes; the socket path length depends on it.
        absolute = URL(fileURLWithPath: absolute).standardizedFileURL.path
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        return absolute
    }

    /// Quotes a value for a libpq key=value connection string.
    static func quoted(_ value: String) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "'\(escaped)'"
    }
}
