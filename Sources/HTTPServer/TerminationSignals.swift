import Glibc

/// How a process built on this server receives SIGINT and SIGTERM: blocked in every thread and
/// taken with sigwait(2), so that a shutdown runs as ordinary code (stop accepting, finish
/// requests, stop an embedded database) on the thread that waits, never inside a signal
/// handler. SIGPIPE is ignored: libpq, libcurl and the server write to sockets whose peer may
/// be gone.
///
/// ```swift
/// TerminationSignals.install()   // first thing in main, before any thread starts
/// try server.start()
/// let signal = TerminationSignals.wait()
/// logger.notice("received \(TerminationSignals.name(signal)), shutting down")
/// server.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// Why sigwait rather than a handler or a Dispatch signal source: with the signals blocked
/// everywhere, none is ever delivered asynchronously to a thread in the middle of a libpq or
/// libcurl call (no `EINTR` there, nothing running in handler context); a signal that arrives
/// before anyone waits stays pending instead of being lost or ignored; nothing has to replace
/// the signals' dispositions (a Dispatch source needs `SIG_IGN`, which would leave SIGTERM
/// ignored for good if the source went away); and it needs no Dispatch thread, whose signal
/// sources are fragile on Linux (swift-corelibs-libdispatch issues). The price: `install()` must
/// run before any thread is started, since threads inherit the mask when they are created.
public enum TerminationSignals {
    /// The signals that ask for a graceful shutdown.
    public static let signals: [Int32] = [SIGINT, SIGTERM]

    /// Ignores SIGPIPE and blocks ``signals`` in the calling thread. Call first thing, before
    /// any thread is started, so every thread inherits the mask.
    public static func install() {
        signal(SIGPIPE, SIG_IGN)
        block(signals)
    }

    /// Blocks until SIGINT or SIGTERM arrives; returns the signal. From then on a second
    /// signal ends the process at once (exit status 128 + signal), for an operator who does
    /// not want to wait for the graceful shutdown.
    public static func wait() -> Int32 {
        let received = next(of: signals)!
        let program = CommandLine.arguments.first?.split(separator: "/").last.map(String.init) ?? "server"
        let watcher = try? PosixThread.spawn(name: "second-signal") {
            let second = next(of: signals)!
            let message = "\(program): second signal \(second), exiting without waiting\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(128 + second)
        }
        watcher?.detach()
        return received
    }

    /// "SIGINT", "SIGTERM", or "signal N".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// Blocks `signals` in the calling thread (and in the threads it starts afterwards), so
    /// that they stay pending until ``next(of:timeout:)`` takes them.
    public static func block(_ signals: [Int32]) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Takes the next of `signals`, which must be blocked, waiting at most `timeout` (nil:
    /// for ever); nil when none arrived in time.
    public static func next(of signals: [Int32], timeout: Duration? = nil) -> Int32? {
        var set = signalSet(signals)
        guard let timeout else {
            var received: Int32 = 0
            while sigwait(&set, &received) != 0 {}
            return received
        }
        let deadline = MonotonicClock.nanoseconds() + timeout.nanoseconds
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return nil }
            let remaining = deadline - now
            var wait = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
            let received = sigtimedwait(&set, nil, &wait)
            if received > 0 { return received }
            if errno != EINTR { return nil }  // EAGAIN: the time is up
        }
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        return set
    }
}
