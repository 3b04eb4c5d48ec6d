import Dispatch
import Glibc
import Logging
import Metrics
import Synchronization

/// Writes the access log off the I/O threads, and never makes a request wait for it.
///
/// Each I/O thread formats its lines into a buffer of its own (``AccessLogLines``)
/// and hands them here once per loop iteration: one lock, one copy. A thread of
/// this writer takes what is pending every `flushInterval` (or as soon as
/// `wakeBytes` are waiting) and writes it with one `write(2)`: to a regular file
/// whole; to a pipe or terminal in pieces of at most `PIPE_BUF` bytes cut at line
/// ends, which the kernel writes atomically, so a line never interleaves with a
/// line other code writes to the same descriptor.
///
/// Bounded: when `capacity` bytes are already waiting (the reader of the log —
/// a terminal, a collector behind a pipe — is slower than the requests), a
/// batch of lines is dropped whole rather than block its I/O thread, counted in
/// `http_access_log_dropped_lines_total` and said in a warning at most every
/// `dropReportInterval`. Lines of one I/O thread (so of one connection) keep
/// their order. ``close()`` writes everything still pending.
public final class AccessLogWriter: Sendable {
    public let format: AccessLogFormat
    /// The label lines carry (the server's logger's).
    public let label: String
    private let fd: Int32
    private let capacity: Int
    private let wakeBytes: Int
    private let flushInterval: Duration
    private let dropReportInterval: Duration
    private let logger: Logger
    private let dropped: Counter
    private let state: Mutex<State>
    private let wakeup = DispatchSemaphore(value: 0)
    private let thread: Mutex<PosixThread?>

    private struct State {
        var pending: [UInt8] = []
        var stopping = false
        /// The writer thread was woken for the bytes pending (so not again until it takes them).
        var woken = false
        var droppedLines = 0
        var droppedSinceReport = 0
        var writtenLines = 0
        var pendingLines = 0
    }

    /// - Parameters:
    ///   - fd: where lines go (standard error by default); not closed here.
    ///   - capacity: the most bytes waiting to be written; beyond it lines are dropped.
    ///   - logger: where dropped lines are reported (a warning, at most every `dropReportInterval`).
    public init(
        fd: Int32 = 2, format: AccessLogFormat, label: String, capacity: Int = 1 << 20,
        flushInterval: Duration = .milliseconds(50), dropReportInterval: Duration = .seconds(10), logger: Logger
    ) throws {
        self.fd = fd
        self.format = format
        self.label = label
        self.capacity = max(capacity, 1)
        self.wakeBytes = max(1, min(64 << 10, capacity / 4))
        self.flushInterval = flushInterval
        self.dropReportInterval = dropReportInterval
        self.logger = logger
        self.dropped = Counter(label: "http_access_log_dropped_lines_total")
        var initial = State()
        initial.pending.reserveCapacity(min(capacity, 256 << 10))
        self.state = Mutex(initial)
        self.thread = Mutex(nil)
        let started = try PosixThread.spawn(name: "access-log") { [self] in run() }
        thread.withLock { $0 = started }
    }

    /// Lines dropped so far because `capacity` bytes were already waiting.
    public var droppedLines: Int { state.withLock { $0.droppedLines } }
    /// Lines written so far.
    public var writtenLines: Int { state.withLock { $0.writtenLines } }

    /// Takes an I/O thread's lines (emptying `lines`); never blocks on the output.
    func submit(_ lines: inout AccessLogLines) {
        guard lines.count > 0 else { return }
        let count = lines.count
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard !state.stopping, state.pending.count + lines.bytes.count <= capacity else {
                state.droppedLines += count
                state.droppedSinceReport += count
                return (false, false)
            }
            state.pending.append(contentsOf: lines.bytes)
            state.pendingLines += count
            guard !state.woken, state.pending.count >= wakeBytes else { return (true, false) }
            state.woken = true
            return (true, true)
        }
        if !accepted { dropped.increment(by: count) }
        if wake { wakeup.signal() }
        lines.bytes.removeAll(keepingCapacity: true)
        lines.count = 0
    }

    /// Writes what is pending and stops the writer's thread; lines submitted later
    /// are dropped. Idempotent.
    public func close() {
        guard let running = thread.withLock({ thread -> PosixThread? in
            defer { thread = nil }
            return thread
        }) else { return }
        state.withLock { $0.stopping = true }
        wakeup.signal()
        running.join()
    }

    private func run() {
        let regularFile = Self.isRegularFile(fd)
        var batch: [UInt8] = []
        batch.reserveCapacity(min(capacity, 256 << 10))
        var lastReport = MonotonicClock.nanoseconds()
        while true {
            _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(flushInterval.nanoseconds)))
            let (stopping, lines, droppedSinceReport) = state.withLock { state in
                swap(&state.pending, &batch)
                state.woken = false
                let lines = state.pendingLines
                state.pendingLines = 0
                return (state.stopping, lines, state.droppedSinceReport)
            }
            if !batch.isEmpty {
                DescriptorOutput.write(batch, to: fd, inAtomicPieces: !regularFile)
                batch.removeAll(keepingCapacity: true)
                state.withLock { $0.writtenLines += lines }
            }
            let now = MonotonicClock.nanoseconds()
            if droppedSinceReport > 0, stopping || now &- lastReport >= dropReportInterval.nanoseconds {
                lastReport = now
                let total = state.withLock { state in
                    state.droppedSinceReport -= droppedSinceReport
                    return state.droppedLines
                }
                logger.warning(
                    "access log lines dropped: the log is written more slowly than requests are answered",
                    metadata: ["dropped": .stringConvertible(droppedSinceReport), "dropped_total": .stringConvertible(total),
                               "buffer_bytes": .stringConvertible(capacity)])
            }
            if stopping { return }
        }
    }

    private static func isRegularFile(_ fd: Int32) -> Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }
}
