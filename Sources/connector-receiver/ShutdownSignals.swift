#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// SIGINT and SIGTERM are blocked in every thread and received with sigwait(2),
/// so a shutdown runs as ordinary code (stop accepting, finish requests, stop
/// the embedded cluster) instead of inside a signal handler. SIGPIPE is ignored:
/// libpq, libcurl and the server write to sockets whose peer may be gone.
enum ShutdownSignals {
    private static var shutdownSet: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    /// Call first thing, before any thread is started, so every thread inherits the mask.
    static func install() {
        signal(SIGPIPE, SIG_IGN)
        var set = shutdownSet
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks until SIGINT or SIGTERM arrives; returns the signal. From then on a
    /// second signal ends the process at once (exit status 128 + signal), for an
    /// operator who does not want to wait for the graceful shutdown.
    static func wait() -> Int32 {
        let received = nextSignal()
        Thread.detachNewThread {
            let second = nextSignal()
            let message = "connector-receiver: second signal \(second), exiting without waiting\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(128 + second)
        }
        return received
    }

    private static func nextSignal() -> Int32 {
        var set = shutdownSet
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}
