#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process started with `posix_spawn`, in a session of its own.
///
/// The PostgreSQL server must not receive the terminal's Ctrl-C: the receiver
/// finishes its in-flight requests first and then stops the cluster itself, so
/// the child is made a session leader (`POSIX_SPAWN_SETSID`), outside the
/// terminal's foreground process group.
struct ChildProcess: Sendable {
    let pid: pid_t

    /// glibc's POSIX_SPAWN_SETSID (since 2.26); its header hides it behind _GNU_SOURCE.
    private static let spawnSetSID: Int32 = 0x80

    /// Starts `arguments[0]` (an absolute path) with `arguments`, writing its
    /// standard output and error to `outputFD` (standard input is /dev/null).
    static func spawn(_ arguments: [String], outputFD: Int32) throws(EmbeddedPostgresError) -> ChildProcess {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&fileActions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&fileActions, outputFD, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default signal dispositions in the child: the receiver ignores SIGPIPE,
        // PostgreSQL must not inherit that.
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(Self.spawnSetSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let result = posix_spawn(&pid, arguments[0], &fileActions, &attributes, cArguments, environ)
        guard result == 0 else {
            throw .spawnFailed(arguments[0], errno: result)
        }
        return ChildProcess(pid: pid)
    }

    /// Runs a command to completion and returns its exit status and output.
    static func run(_ arguments: [String]) throws(EmbeddedPostgresError) -> (status: Int32, output: String) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw .spawnFailed(arguments[0], errno: errno) }
        let child: ChildProcess
        do {
            child = try spawn(arguments, outputFD: pipeFDs[1])
        } catch {
            close(pipeFDs[0]); close(pipeFDs[1])
            throw error
        }
        close(pipeFDs[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(pipeFDs[0])
        let status = child.wait()
        return (status, String(decoding: output, as: UTF8.self))
    }

    /// Waits for the process to end; returns its exit status (128 + signal if killed).
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        return Self.exitCode(status)
    }

    /// The exit status if the process has ended, else nil. Never blocks.
    func exitStatusIfEnded() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        return Self.exitCode(status)
    }

    private static func exitCode(_ status: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
