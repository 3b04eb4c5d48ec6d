import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `<data dir>/serve.url`: the public base URL of the `serve` that runs on the
/// embedded cluster of that data directory, so that `turnup add` run beside it
/// puts the right address on the turn-up sheet (the server may listen on any
/// port, or have a --public-url the shell running `turnup` does not know).
///
/// Two lines, the URL and the pid of the `serve` that wrote it. `serve` writes it
/// once it listens and removes it when it stops; a `serve` killed with SIGKILL
/// leaves it behind, so it is believed only while that `serve` still holds the data
/// directory: `receiver.lock` is locked (flock), and names that pid.
enum ServeURLFile {
    static func path(dataDirectory: String) -> String { dataDirectory + "/serve.url" }

    /// Written to a temporary file renamed into place: a reader never sees half of it.
    static func write(_ url: String, dataDirectory: String) throws {
        let path = path(dataDirectory: dataDirectory)
        try "\(url)\n\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
    }

    /// Removes the file if this process wrote it.
    static func remove(dataDirectory: String) {
        let path = path(dataDirectory: dataDirectory)
        guard let (_, pid) = contents(path), pid == getpid() else { return }
        unlink(path)
    }

    /// The URL of the `serve` running on `dataDirectory`; nil when none does.
    static func runningServeURL(dataDirectory: String) -> String? {
        guard let (url, pid) = contents(path(dataDirectory: dataDirectory)) else { return nil }
        let lockPath = dataDirectory + "/receiver.lock"
        let lock = open(lockPath, O_RDONLY | O_CLOEXEC)
        guard lock >= 0 else { return nil }
        defer { close(lock) }
        // A shared lock granted at once means no process holds the directory
        // (released again when the descriptor closes).
        if flock(lock, LOCK_SH | LOCK_NB) == 0 { return nil }
        let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return holder == String(pid) ? url : nil
    }

    private static func contents(_ path: String) -> (String, pid_t)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count >= 2, !lines[0].isEmpty, let pid = pid_t(lines[1]) else { return nil }
        return (lines[0], pid)
    }
}
