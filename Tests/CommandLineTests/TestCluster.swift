import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of the test's own, in a temporary directory, reached over TCP on
/// 127.0.0.1 like a database on another host: the test stops it, starts it and freezes it
/// at will. As root, it runs as the `postgres` user (PostgreSQL refuses root).
final class TestCluster {
    let directory: String
    let port: Int
    private var frozen: [pid_t] = []

    /// The `DATABASE_URL` of the cluster's `postgres` database.
    var url: String { "host=127.0.0.1 port=\(port) user=postgres dbname=postgres" }

    init() throws {
        directory = "/tmp/cr-faults-pg-" + UUID().uuidString.prefix(8).lowercased()
        port = try freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if geteuid() == 0, let user = getpwnam("postgres") {
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        chmod(directory, 0o700)
        try runAsClusterOwner([Self.bindir + "/initdb", "--pgdata=\(directory)/data", "--username=postgres", "--auth=trust",
                               "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        try start()
    }

    deinit { destroy() }

    /// Starts the server and waits until it accepts connections.
    func start() throws {
        try runAsClusterOwner([
            Self.bindir + "/pg_ctl", "--pgdata=\(directory)/data", "--log=\(directory)/postgres.log", "--wait", "--silent",
            "-o", "-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories=\(directory) -c max_connections=200",
            "start",
        ])
    }

    /// `pg_ctl stop -m immediate`: every server process quits at once, without a
    /// checkpoint, as in a crash; the next start recovers from the WAL.
    func stopImmediately() throws {
        try runAsClusterOwner([Self.bindir + "/pg_ctl", "--pgdata=\(directory)/data", "--mode=immediate", "--wait", "--silent", "stop"])
    }

    /// Stops (SIGSTOP) the postmaster and every server process: a hung database. The
    /// kernel still accepts TCP connections on its listening socket; nobody answers.
    func freeze() throws {
        let postmaster = try #require(postmasterPID, "the cluster is not running")
        kill(postmaster, SIGSTOP)  // first, so it starts no new processes
        frozen = [postmaster] + Self.children(of: postmaster)
        for pid in frozen.dropFirst() { kill(pid, SIGSTOP) }
    }

    /// Lets the frozen processes run again.
    func thaw() {
        for pid in frozen { kill(pid, SIGCONT) }
        frozen = []
    }

    /// Stops the cluster whatever its state and deletes its directory.
    func destroy() {
        thaw()
        if postmasterPID != nil {
            try? runAsClusterOwner([Self.bindir + "/pg_ctl", "--pgdata=\(directory)/data", "--mode=immediate", "--wait", "--silent", "stop"])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var postmasterPID: pid_t? { TestSupport.postmasterPID(pgdata: directory + "/data") }

    /// The processes whose parent is `parent` (from /proc).
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    static let bindir: String = {
        let path = "/tmp/cr-pg-config-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { unlink(path) }
        _ = try? spawnAndWait(["/usr/bin/pg_config", "--bindir"], outputPath: path)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// Runs a PostgreSQL program as the cluster's owner, its output in a file.
    private func runAsClusterOwner(_ arguments: [String]) throws {
        var command = arguments
        if geteuid() == 0 {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/runuser"
            command = [runuser, "-u", "postgres", "--"] + arguments
        }
        let outputPath = directory + "/command.log"
        let status = try spawnAndWait(command, outputPath: outputPath)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: directory + "/postgres.log", encoding: .utf8)) ?? ""
            throw TestSetupError(description: "\(arguments.joined(separator: " ")) failed (\(status)): \(text)\n\(log.suffix(2000))")
        }
    }
}

/// Runs `arguments[0]` (an absolute path) to completion with `posix_spawn` and
/// `waitpid`; returns its exit status. Not Foundation's `Process`: on Linux it notices
/// the exit only when every process holding its status pipe has gone, and the server
/// that `pg_ctl start` leaves running would hold it. For the same reason the child
/// gets none of this process's descriptors but its output file and /dev/null.
func spawnAndWait(_ arguments: [String], outputPath: String) throws -> Int32 {
    let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard output >= 0 else { throw TestSetupError(description: "cannot open \(outputPath): errno \(errno)") }
    defer { close(output) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, output, 1)
    posix_spawn_file_actions_adddup2(&actions, output, 2)
    let inherited = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    for descriptor in inherited where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
    var pid: pid_t = 0
    let cArguments = arguments.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, cArguments, environ)
    guard spawned == 0 else { throw TestSetupError(description: "cannot run \(arguments[0]): errno \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}
