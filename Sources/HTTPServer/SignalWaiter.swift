import Dispatch
import Glibc
import Synchronization

/// Waits for termination signals so an executable can shut the server down gracefully.
///
/// The server installs no signal handlers itself (only `SIGPIPE` is ignored); the executable
/// decides what a signal means:
///
/// ```swift
/// let signals = SignalWaiter(signals: [SIGTERM, SIGINT])   // create early, before start()
/// try server.start()
/// let received = signals.wait()
/// logger.info("received signal \(received); shutting down")
/// server.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// Each signal's default action (terminate) is replaced by "ignore" and a Dispatch signal
/// source observes it, so the signal is handled on a Dispatch thread, never interrupting
/// arbitrary code, and `wait()` returns on any thread.
public final class SignalWaiter: Sendable {
    /// Shared with the signal handlers.
    private final class Inbox: Sendable {
        let received = Mutex<[Int32]>([])
        let semaphore = DispatchSemaphore(value: 0)
    }

    private let sources: Mutex<[any DispatchSourceSignal]>
    private let inbox = Inbox()

    /// Starts observing `signals`.
    public init(signals: [Int32] = [SIGTERM, SIGINT]) {
        let queue = DispatchQueue(label: "http.signal-waiter")
        let inbox = self.inbox
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                inbox.received.withLock { $0.append(number) }
                inbox.semaphore.signal()
            }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    /// Blocks the calling thread until one of the signals arrives; returns its number.
    /// Call from a thread that may block (the main thread of the executable), not from an
    /// async context.
    public func wait() -> Int32 {
        inbox.semaphore.wait()
        return inbox.received.withLock { $0.removeFirst() }
    }

    /// Like ``wait()`` but gives up after `timeout`; nil when no signal arrived.
    public func wait(timeout: Duration) -> Int32? {
        let nanoseconds = Int(min(timeout.nanoseconds, UInt64(Int.max)))
        guard inbox.semaphore.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return nil }
        return inbox.received.withLock { $0.removeFirst() }
    }

    /// Stops observing; the signals keep being ignored.
    public func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources = []
        }
    }
}
