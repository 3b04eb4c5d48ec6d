import Dispatch
import Logging
import Synchronization

/// A bounded pool of connections for threads that each need a connection for a while.
///
/// ```swift
/// let pool = PostgresConnectionPool(configuration: config, maximumConnections: 10)
/// let count = try pool.withConnection { conn in
///     try conn.query("SELECT count(*) FROM staff").first!.decode(0, as: Int.self)
/// }
/// ```
///
/// - At most `maximumConnections` connections are open; they are opened lazily, when
///   a thread needs one and none is idle.
/// - A thread waits at most `acquireTimeout` for a connection, then gets a
///   ``PostgresError`` of kind `.poolTimeout`.
/// - A connection is lent to one thread at a time, for the duration of the closure.
///   Do not let it escape the closure.
/// - A connection that comes back broken is closed, not reused; one left inside a
///   transaction is rolled back first. Session settings changed with `SET` stay with
///   the connection: use `SET LOCAL` inside transactions instead.
/// - An idle connection the server has closed in the meantime (`pg_terminate_backend`,
///   restart, `idle_session_timeout`) is replaced transparently. When it is lent, and
///   again before the first statement of the loan, the socket is checked: if it shows
///   the server's goodbye, the connection reconnects before sending anything. If the
///   server ends the session *while* that first statement runs, a single statement
///   (`query`, `execute`, a transaction's `BEGIN`) is sent again on a new session: a
///   terminated session aborts what it ran, and no earlier work of the loan can be
///   lost. Nothing else is retried: not later statements (work of the loan would be
///   lost), not `simpleExecute` text (it may commit part of itself), not a connection
///   lost without the server's goodbye (the statement may have committed).
///
/// Waiting uses a counting `DispatchSemaphore` (one permit per possible connection)
/// and the bookkeeping a `Mutex`, so the pool is `Sendable` without unchecked code.
public final class PostgresConnectionPool: Sendable {
    /// Statistics for metrics and logs.
    public struct Statistics: Sendable, Hashable {
        /// Connections currently open (idle or lent).
        public let openConnections: Int
        /// Open connections waiting in the pool.
        public let idleConnections: Int
        /// Threads waiting for a connection.
        public let waitingThreads: Int
        /// The pool's bound.
        public let maximumConnections: Int
    }

    /// The configuration every connection is opened with.
    public let configuration: PostgresConfiguration
    /// The most connections open at once.
    public let maximumConnections: Int
    /// How long a thread waits for a free connection before `.poolTimeout`.
    public let acquireTimeout: Duration
    /// Where connection churn (opened, discarded, reconnected) is logged.
    public let logger: Logger

    /// One permit per connection that may be lent. Taking a permit entitles a thread to
    /// an idle connection or to open one; so lent + idle never exceeds the maximum,
    /// because a connection goes back to `idle` before its permit is returned.
    private let permits: DispatchSemaphore
    private let state = Mutex(State())

    private struct State {
        /// Most recently returned last: lending from the end keeps a few connections warm
        /// and lets the rest sit (and be noticed if they die).
        var idle: [PostgresConnection] = []
        var openCount = 0
        var waitingCount = 0
        var isClosed = false
    }

    /// Creates a pool; no connection is opened until one is needed.
    ///
    /// - Parameters:
    ///   - maximumConnections: the most connections open at once (at least 1).
    ///   - acquireTimeout: how long a thread waits for a free connection.
    public init(
        configuration: PostgresConfiguration,
        maximumConnections: Int = 10,
        acquireTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "postgres.pool")
    ) {
        precondition(maximumConnections >= 1, "a pool needs at least one connection")
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.acquireTimeout = acquireTimeout
        self.logger = logger
        self.permits = DispatchSemaphore(value: maximumConnections)
    }

    /// Lends a connection to `body` and takes it back when `body` returns or throws.
    ///
    /// - Throws: ``PostgresError`` `.poolTimeout` when no connection became free within
    ///   `acquireTimeout`; `.poolClosed` after `close()`; `.connectionFailed` when a new
    ///   connection could not be opened; otherwise whatever `body` throws.
    public func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    /// Runs `body` in a transaction on a pooled connection; see
    /// ``PostgresConnection/transaction(isolation:retries:_:)``.
    public func withTransaction<Result>(
        isolation: PostgresIsolationLevel = .readCommitted,
        retries: Int = 0,
        _ body: (PostgresConnection) throws -> Result
    ) throws -> Result {
        try withConnection { connection in
            try connection.transaction(isolation: isolation, retries: retries, body)
        }
    }

    /// Closes the idle connections and refuses new loans; lent connections are closed
    /// when they come back, and waiting threads get `.poolClosed`. Idempotent.
    public func close() {
        let (wasClosed, idle) = state.withLock { state in
            let wasClosed = state.isClosed
            state.isClosed = true
            let idle = state.idle
            state.idle = []
            return (wasClosed, idle)
        }
        guard !wasClosed else { return }
        for connection in idle { discard(connection) }
        // Wake one waiter; each waiter that finds the pool closed passes the permit on.
        permits.signal()
        logger.debug("connection pool closed")
    }

    /// The pool's current counts.
    public var statistics: Statistics {
        state.withLock { state in
            Statistics(
                openConnections: state.openCount,
                idleConnections: state.idle.count,
                waitingThreads: state.waitingCount,
                maximumConnections: maximumConnections
            )
        }
    }

    // MARK: Lending

    private func acquire() throws(PostgresError) -> PostgresConnection {
        guard !state.withLock({ $0.isClosed }) else { throw Self.closedError }
        state.withLock { $0.waitingCount += 1 }
        let outcome = permits.wait(timeout: .now() + Self.dispatchInterval(acquireTimeout))
        state.withLock { $0.waitingCount -= 1 }
        guard outcome == .success else {
            throw PostgresError(
                kind: .poolTimeout,
                message: "timed out after \(Self.format(acquireTimeout)) waiting for a database connection (pool of \(maximumConnections) in use)",
                hint: "every connection was busy for the whole wait: look for slow statements or long transactions, or raise the pool size"
            )
        }
        do throws(PostgresError) {
            return try connectionForPermit()
        } catch {
            permits.signal()
            throw error
        }
    }

    private enum Take {
        case closed
        case idle(PostgresConnection)
        case none
    }

    /// With a permit in hand: an idle connection that is still alive, or a new one.
    private func connectionForPermit() throws(PostgresError) -> PostgresConnection {
        while true {
            let take: Take = state.withLock { state in
                if state.isClosed { return .closed }
                if let connection = state.idle.popLast() { return .idle(connection) }
                return .none
            }
            switch take {
            case .closed:
                throw Self.closedError
            case .idle(let connection):
                if connection.checkAliveAfterIdle() {
                    connection.setReconnectIfTerminatedBeforeFirstStatement(true)
                    return connection
                }
                logger.notice("discarding a pooled connection that the server closed while it was idle")
                discard(connection)
            case .none:
                let connection = try PostgresConnection.connect(configuration, logger: logger)
                let open = state.withLock { state in
                    state.openCount += 1
                    return state.openCount
                }
                logger.debug("opened a database connection", metadata: ["open": "\(open)", "max": "\(maximumConnections)"])
                return connection
            }
        }
    }

    private func release(_ connection: PostgresConnection) {
        // The connection goes back to `idle` (or is closed) before the permit is
        // returned; the accounting in `permits` depends on that order.
        defer { permits.signal() }
        connection.setReconnectIfTerminatedBeforeFirstStatement(false)
        guard connection.isHealthy else {
            logger.notice("discarding a database connection that broke while in use")
            discard(connection)
            return
        }
        switch connection.transactionStatus {
        case .idle:
            break
        case .inTransaction, .inFailedTransaction:
            logger.warning("a database connection came back to the pool inside a transaction; rolling it back")
            do {
                try connection.command("ROLLBACK")
            } catch {
                discard(connection)
                return
            }
        case .active, .unknown:
            discard(connection)
            return
        }
        let kept = state.withLock { state in
            guard !state.isClosed else { return false }
            state.idle.append(connection)
            return true
        }
        if !kept { discard(connection) }
    }

    private func discard(_ connection: PostgresConnection) {
        connection.close()
        state.withLock { $0.openCount -= 1 }
    }

    private static let closedError = PostgresError(kind: .poolClosed, message: "the database connection pool is closed")

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow, nanoseconds.partialValue < Int64(Int.max) / 2 else { return .never }
        return .nanoseconds(Int(max(0, nanoseconds.partialValue + attoseconds / 1_000_000_000)))
    }

    /// `2 s`, `0.25 s`: seconds with up to three decimals.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "\(seconds) s" }
        var fraction = String(milliseconds)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction) s"
    }
}
