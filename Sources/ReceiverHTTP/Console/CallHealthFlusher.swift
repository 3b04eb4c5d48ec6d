import Dispatch
import Foundation
import Logging
import Postgres
import ReceiverCore
import Synchronization

/// Writes the Connector calls that ``ClientCallRecorder`` noted, every
/// `interval`, on one thread of `serve`'s (a statement per interval per
/// instance, whatever the traffic), and once more when stopped.
final class CallHealthFlusher: Sendable {
    private let recorder: ClientCallRecorder
    private let database: PostgresConnectionPool
    private let interval: Duration
    private let logger: Logger
    private let stopped = Mutex(true)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(recorder: ClientCallRecorder, database: PostgresConnectionPool, interval: Duration, logger: Logger) {
        (self.recorder, self.database, self.interval, self.logger) = (recorder, database, interval, logger)
    }

    func start() {
        guard stopped.withLock({ let was = $0; $0 = false; return was }) else { return }
        Thread.detachNewThread { [self] in run() }
    }

    /// Stops the thread after its last flush (bounded by the pool's timeouts).
    func stop() {
        guard !stopped.withLock({ let was = $0; $0 = true; return was }) else { return }
        wake.signal()
        finished.wait()
    }

    private func run() {
        let milliseconds = Int(interval.components.seconds * 1_000 + interval.components.attoseconds / 1_000_000_000_000_000)
        while !stopped.withLock({ $0 }) {
            _ = wake.wait(timeout: .now() + .milliseconds(max(milliseconds, 10)))
            flush()
        }
        finished.signal()
    }

    private func flush() {
        guard recorder.pendingCount > 0 else { return }
        do {
            try database.withConnection { try recorder.flush(on: $0) }
        } catch {
            logger.warning("could not write the clients' call health; kept for the next try", metadata: ["error": "\(error)"])
        }
    }
}
