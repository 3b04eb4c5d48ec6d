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
/// leaves it behind, so it is believed only while that pid still holds the data
/// directory (its pid is in `receiver.lock`, which it keeps locked while it runs).
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
        let holder = (try? String(contentsOfFile: dataDirectory + "/receiver.lock", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // kill(pid, 0) fails with EPERM for a live process of another user.
        guard holder == String(pid), kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return url
    }

    private static func contents(_ path: String) -> (String, pid_t)? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count >= 2, !lines[0].isEmpty, let pid = pid_t(lines[1]) else { return nil }
        return (lines[0], pid)
    }
}
