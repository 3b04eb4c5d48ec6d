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
///       serve.url         written by `serve` while it runs (see the executable)
///
/// Run as root, the cluster runs as the `postgres` system user, which may not be
/// able to reach the data directory: under a mode-700 home such as `/root`, no
/// other user may search the path. Changing the permissions of someone's home is
/// not ours to do, so the cluster's files go where that user can reach them, one
/// directory per data directory:
///
///     /var/lib/connector-receiver/clusters/<name>-<hash of the data directory's path>/
///       data-dir          the data directory it belongs to (for people, and checked on reuse)
///       pgdata/           the cluster, as above
///
/// and `.data/pgdata` is a symbolic link to it, so the data is still found from
/// the data directory (`ls -l .data`), by the next start too. The rest of the data
/// directory (lock, log) stays in place: only root touches it. The path is short
/// whatever the data directory's, so the Unix socket always fits.
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
    /// Where the clusters of data directories the cluster user cannot reach are placed.
    public static let defaultRelocationRoot = "/var/lib/connector-receiver/clusters"

    public let dataDirectory: String
    /// The parent of relocated clusters (`defaultRelocationRoot`; tests use their own).
    let relocationRoot: String
    private let logger: Logger
    private let state = Mutex<RunningState?>(nil)

    private struct RunningState: Sendable {
        var server: ChildProcess
        var lockFD: Int32
    }

    /// - Parameter dataDirectory: relative paths are resolved against the current directory.
    public convenience init(dataDirectory: String, logger: Logger) {
        self.init(dataDirectory: dataDirectory, relocationRoot: Self.defaultRelocationRoot, logger: logger)
    }

    init(dataDirectory: String, relocationRoot: String, logger: Logger) {
        self.dataDirectory = Self.absolutePath(dataDirectory)
        self.relocationRoot = relocationRoot
        self.logger = logger
    }

    /// `<data dir>/pgdata`, where the cluster's files are or the link to them.
    var clusterLink: String { dataDirectory + "/pgdata" }

    /// The cluster's directory: the link's target when it was placed elsewhere
    /// (see above), else `<data dir>/pgdata`. PostgreSQL gets this path, never the
    /// link: the cluster user could not follow a path through the data directory.
    public var clusterDirectory: String {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: clusterLink) else { return clusterLink }
        return target.hasPrefix("/") ? target : Self.absolutePath(dataDirectory + "/" + target)
    }

    /// Whether the cluster lives outside the data directory.
    public var isRelocated: Bool { clusterDirectory != clusterLink }

    /// The directory a relocated cluster of this data directory goes to: readable
    /// (the last two names of its path, at most 24 characters) and unique (a hash of
    /// the whole path), and short enough for the Unix socket under any data directory.
    var relocationHome: String {
        // `/root/clone/.data` → `clone-data`
        let components = dataDirectory.split(separator: "/").suffix(2).map { $0.drop { $0 == "." } }
        let readable = String(components.joined(separator: "-").map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || "-_".contains(character)) ? character : "-"
        }.drop { $0 == "-" }.suffix(24))
        // FNV-1a, 64 bits: stable across runs and builds (Swift's Hasher is seeded per process).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in dataDirectory.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        let key = (readable.isEmpty ? "" : readable + "-") + String(repeating: "0", count: 16 - hex.count) + hex
        return relocationRoot + "/" + key
    }

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

        // Checked before anything is created, on the path the cluster has or would
        // have in place; a relocated cluster's path is short (see relocationHome).
        try checkSocketPath()

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
            try checkSocketPath()
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
        var metadata: Logger.Metadata = ["data-dir": "\(dataDirectory)"]
        if isRelocated { metadata["cluster"] = "\(clusterDirectory)" }
        logger.info("embedded PostgreSQL ready", metadata: metadata)
        return connectionString
    }

    private func checkSocketPath() throws(EmbeddedPostgresError) {
        let socketPath = clusterDirectory + "/.s.PGSQL.5432"
        guard socketPath.utf8.count <= Self.socketPathLimit else {
            throw .socketPathTooLong(path: socketPath, limit: Self.socketPathLimit)
        }
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
        if let clusterUser, !isRelocated, !canReach(dataDirectory, as: clusterUser) {
            try relocate(for: clusterUser)
            if access(clusterDirectory + "/PG_VERSION", F_OK) == 0 { return }
        }
        // initdb writes into a scratch directory renamed into place only when it
        // succeeded, so a run killed during initdb never leaves a half-made cluster.
        let target = clusterDirectory
        let scratch = target + ".initializing"
        // A relocated cluster deleted by hand is made again where the link points.
        if isRelocated { try makeSearchablePath((target as NSString).deletingLastPathComponent) }
        _ = try? ChildProcess.run(["/bin/rm", "-rf", scratch])
        try makeDirectory(scratch, mode: 0o700)
        if let clusterUser {
            guard chown(scratch, clusterUser.uid, clusterUser.gid) == 0 else {
                throw .fileSystem(operation: "change the owner of", path: scratch, errno: errno)
            }
            guard canReach(scratch, as: clusterUser, write: true) else {
                _ = try? ChildProcess.run(["/bin/rm", "-rf", scratch])
                throw .dataDirectoryUnreachable(path: (target as NSString).deletingLastPathComponent, user: clusterUser.name)
            }
        }
        logger.info("initializing the embedded PostgreSQL cluster", metadata: ["data-dir": "\(dataDirectory)", "cluster": "\(target)"])
        let initdb = clusterUser.wrapIfNeeded([
            binaries.initdb, "--pgdata=\(scratch)", "--username=\(Self.superuserName)",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        ])
        let result = try ChildProcess.run(initdb)
        guard result.status == 0 else {
            throw .commandFailed(command: "initdb", status: result.status, output: result.output)
        }
        guard rename(scratch, target) == 0 else {
            throw .fileSystem(operation: "rename to \(target)", path: scratch, errno: errno)
        }
    }

    /// Whether the cluster user can search `path` (every parent included), or write it.
    private func canReach(_ path: String, as user: ClusterUser, write: Bool = false) -> Bool {
        (try? ChildProcess.run(user.wrap(["/usr/bin/test", write ? "-w" : "-x", path])))?.status == 0
    }

    /// Places the cluster in `relocationHome` and links `<data dir>/pgdata` to it.
    /// A cluster already there (made for this data directory by an earlier run whose
    /// link was lost) is used again rather than replaced: data is never thrown away
    /// here.
    private func relocate(for user: ClusterUser) throws(EmbeddedPostgresError) {
        let home = relocationHome
        let record = home + "/data-dir"
        try makeSearchablePath(home)
        if let recorded = try? String(contentsOfFile: record, encoding: .utf8),
           recorded.trimmingCharacters(in: .newlines) != dataDirectory {
            throw .relocationTaken(path: home, owner: recorded.trimmingCharacters(in: .newlines), dataDirectory: dataDirectory)
        }
        do {
            try (dataDirectory + "\n").write(toFile: record, atomically: true, encoding: .utf8)
        } catch {
            throw .fileSystem(operation: "write", path: record, errno: EACCES)
        }
        let target = home + "/pgdata"
        rmdir(clusterLink)  // an empty directory left in place by hand; anything else makes symlink fail
        guard symlink(target, clusterLink) == 0 else {
            throw .fileSystem(operation: "create the symbolic link", path: clusterLink, errno: errno)
        }
        if access(target + "/PG_VERSION", F_OK) == 0 {
            logger.notice("""
                the system user \(user.name), which runs the embedded cluster, cannot reach \(dataDirectory); \
                using the cluster an earlier run placed in \(target) for it, linked from \(clusterLink) \
                (to start from an empty database instead, stop the server and delete both)
                """)
        } else {
            logger.notice("""
                the system user \(user.name), which runs the embedded cluster, cannot reach \(dataDirectory) \
                (a parent directory is not searchable by it); the cluster's files go to \(target), \
                linked from \(clusterLink)
                """)
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

    /// Creates the missing levels of `path` searchable by every user (mode 0711,
    /// whatever the umask): the cluster user must traverse them to its own directory.
    private func makeSearchablePath(_ path: String) throws(EmbeddedPostgresError) {
        var level = ""
        for component in path.split(separator: "/") {
            level += "/" + component
            if access(level, F_OK) != 0 { try makeDirectory(level, mode: 0o711) }
        }
    }

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

    public static func absolutePath(_ path: String) -> String {
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
