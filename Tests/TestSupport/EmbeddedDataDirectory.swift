import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The postmaster's pid, from `<pgdata>/postmaster.pid`; nil when there is no such file.
public func postmasterPID(pgdata: String) -> pid_t? {
    (try? String(contentsOfFile: pgdata + "/postmaster.pid", encoding: .utf8))?
        .split(separator: "\n").first.flatMap { pid_t($0) }
}

/// Runs `body` with a fresh directory for an embedded cluster, `/tmp/<prefix>-<random>`: short
/// enough for the Unix socket path, and reachable by the `postgres` user when the tests run
/// as root. Afterwards stops a cluster that a test which failed half-way left running in its
/// `pgdata`, and removes the directory.
public func withEmbeddedDataDirectory(prefix: String, _ body: (String) throws -> Void) throws {
    let path = "/tmp/\(prefix)-" + UUID().uuidString.prefix(8).lowercased()
    defer {
        if let pid = postmasterPID(pgdata: path + "/pgdata") {
            kill(pid, SIGQUIT)
            usleep(200_000)
        }
        try? FileManager.default.removeItem(atPath: path)
    }
    try body(path)
}
