import Logging
import Synchronization

/// One PostgreSQL session (one libpq `PGconn`).
///
/// The API is synchronous and blocking, by design: the HTTP server runs handlers on
/// its own worker threads, and libpq blocks. Do not call it from Swift's cooperative
/// thread pool (async code), which has only as many threads as cores.
///
/// Every statement waits for the server at most the configuration's `responseTimeout`:
/// past it, the connection is closed and the statement fails as `.connectionLost`
/// (a server that is hung, stopped or cut off cannot hold a thread longer).
///
/// A connection is `Sendable` because every use of its `PGconn` happens under its
/// own `Mutex`: libpq requires that a connection is never used by two threads at
/// once, and the lock makes that true even if a caller gets it wrong (the second
/// thread waits). Sharing one connection between threads is still a logic error
/// (their statements would interleave within one session); use a
/// ``PostgresConnectionPool`` to give each thread its own.
///
/// The `PGconn` is closed exactly once: by `close()`, or when the connection is
/// deallocated.
public final class PostgresConnection: Sendable {
    /// The configuration the connection was opened with.
    public let configuration: PostgresConfiguration
    /// Where notices and reconnections are logged.
    public let logger: Logger
    private let state: Mutex<ConnectionState>

    /// Opens a connection (blocking for at most the configuration's connect timeout).
    ///
    /// - Throws: ``PostgresError`` of kind `.connectionFailed` (server unreachable,
    ///   authentication failed, unknown database…), with libpq's explanation.
    public static func connect(
        _ configuration: PostgresConfiguration,
        logger: Logger = Logger(label: "postgres")
    ) throws(PostgresError) -> PostgresConnection {
        try PostgresConnection(configuration: configuration, logger: logger)
    }

    private init(configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) {
        let connectionState = try ConnectionState(configuration: configuration, logger: logger)
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(connectionState)
    }

    /// Runs one statement with its bind parameters and returns all of its rows.
    ///
    /// - Throws: ``PostgresError``: `.server` with the SQLSTATE when the server refuses
    ///   the statement; `.connectionLost` when the connection breaks or the server does
    ///   not answer within the response timeout (the statement may or may not have run;
    ///   the connection is unusable afterwards); `.invalidQuery`
    ///   when it cannot be sent (NUL bytes, more than 65535 parameters).
    @discardableResult
    public func query(_ query: PostgresQuery) throws(PostgresError) -> PostgresRows {
        try state.withLock { (state: inout sending ConnectionState) throws(PostgresError) -> PostgresRows in
            try state.execute(.parameterized(query))
        }
    }

    /// Runs one statement (`INSERT`, `UPDATE`, `DELETE`…) and returns the number of
    /// rows it affected. Throws like ``query(_:)``.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws(PostgresError) -> Int {
        try self.query(query).affectedRowCount
    }

    /// Runs `queries` in one round trip (libpq's pipeline mode) and returns the rows of
    /// each, in order. If one fails, the server skips those after it and its error is
    /// thrown, as ``query(_:)`` throws; outside a transaction block, the statements run
    /// as one implicit transaction, so a failure undoes them all.
    @discardableResult
    public func pipeline(_ queries: [PostgresQuery]) throws(PostgresError) -> [PostgresRows] {
        try state.withLock { (state: inout sending ConnectionState) throws(PostgresError) -> [PostgresRows] in
            try state.executePipeline(queries)
        }
    }

    /// Runs SQL text that may hold several statements separated by semicolons, without
    /// parameters (libpq's simple query protocol): for migrations and
    /// fixed commands. Outside a transaction block, the statements run as one implicit
    /// transaction. Never pass text that contains outside input.
    public func simpleExecute(_ sql: String) throws(PostgresError) {
        _ = try state.withLock { (state: inout sending ConnectionState) throws(PostgresError) -> PostgresRows in
            try state.execute(.simple(sql))
        }
    }

    /// Runs one fixed command of this module (`BEGIN …`, `COMMIT`, `SET …`): a single
    /// statement, so the reconnect rule may resend it.
    @discardableResult
    func command(_ sql: String) throws(PostgresError) -> PostgresRows {
        try state.withLock { (state: inout sending ConnectionState) throws(PostgresError) -> PostgresRows in
            try state.execute(.command(sql))
        }
    }

    /// True while the connection is open and no operation has found it broken.
    /// A false value is final; a true value is not a promise (the server may have
    /// gone since the last statement).
    public var isHealthy: Bool {
        state.withLock { $0.isHealthy }
    }

    /// The server process serving this session (`pg_backend_pid()`), 0 once closed.
    public var backendPID: Int32 {
        state.withLock { $0.backendPID }
    }

    /// Whether a transaction is open on this connection.
    public var transactionStatus: PostgresTransactionStatus {
        state.withLock { $0.transactionStatus }
    }

    /// Closes the connection now. Later operations throw `.connectionLost`
    /// ("the connection is closed"). Calling it twice is harmless.
    public func close() {
        state.withLock { $0.close() }
    }

    /// Runs `body` with another response timeout (nil: wait as long as the server
    /// takes), then restores the configured one: for work that may rightly run long,
    /// such as migrations and the wait for another migrator's lock.
    func withResponseTimeout<Result, Failure: Error>(
        _ timeout: Duration?, _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let previous = state.withLock { state in
            let previous = state.responseTimeout
            state.responseTimeout = timeout
            return previous
        }
        defer { state.withLock { $0.responseTimeout = previous } }
        return try body()
    }

    /// See ``ConnectionState/takeCanceledSynchronousReplicationWait()``.
    func takeCanceledSynchronousReplicationWait() -> Bool {
        state.withLock { $0.takeCanceledSynchronousReplicationWait() }
    }

    // MARK: For the pool

    /// See ``ConnectionState/checkAliveAfterIdle()``.
    func checkAliveAfterIdle() -> Bool {
        state.withLock { $0.checkAliveAfterIdle() }
    }

    /// Turns the reconnect-before-first-statement rule on (when lending a connection
    /// that sat idle) or off (when it comes back).
    func setReconnectIfTerminatedBeforeFirstStatement(_ enabled: Bool) {
        state.withLock { $0.reconnectIfTerminatedBeforeFirstStatement = enabled }
    }
}
