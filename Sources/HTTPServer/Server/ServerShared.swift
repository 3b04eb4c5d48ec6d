import Glibc
import Logging
import Metrics
import Synchronization

/// What every event loop of one server shares: immutable configuration, the worker pool, and
/// the process-wide connection count (for the connection cap). Kept off the per-request path
/// where possible: objects touched by both loops on every request have their reference counts
/// bounced between cores.
final class ServerShared: Sendable {
    let configuration: HTTPServer.Configuration
    let workers: WorkerPool
    let logger: Logger
    let openConnections = Atomic<Int>(0)
    let connectionsMeter: Meter?

    init(configuration: HTTPServer.Configuration, workers: WorkerPool, logger: Logger) {
        self.configuration = configuration
        self.workers = workers
        self.logger = logger
        self.connectionsMeter = configuration.metrics ? Meter(label: "http_open_connections") : nil
    }
}

/// Monotonic nanoseconds (vDSO `clock_gettime`, no system call).
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
