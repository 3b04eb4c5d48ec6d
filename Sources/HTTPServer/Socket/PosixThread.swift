import Glibc

/// A plain POSIX thread. Event loops and request workers run on these — never on Swift's
/// cooperative pool, whose few threads must not block (handlers call libpq).
struct PosixThread: Sendable {
    let handle: pthread_t

    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new thread named `name` (truncated to the kernel's 15 bytes).
    static func spawn(name: String, body: @escaping @Sendable () -> Void) throws -> PosixThread {
        let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            _ = LinuxAPI.setThreadName(pthread_self(), String(start.name.utf8.prefix(15))!)
            start.body()
            return nil
        }, start)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SocketError.makeFailed("pthread_create", errno: result)
        }
        return PosixThread(handle: handle)
    }

    /// Waits for the thread to finish.
    func join() {
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread's resources be reclaimed when it ends without anyone joining it.
    func detach() {
        _ = pthread_detach(handle)
    }
}
