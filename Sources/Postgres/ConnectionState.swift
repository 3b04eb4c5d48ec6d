import CLibPQ
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A libpq connection and everything that may only be touched while holding its
/// ``PostgresConnection``'s lock.
///
/// It is `~Copyable` so that exactly one value owns the `PGconn*`; its `deinit` calls
/// `PQfinish`, so the connection is closed exactly once, when the owner goes away
/// (or earlier by `close()`, which clears the handle).
///
/// This file holds the handle's life (opening, reconnecting, closing); the rest is in
/// extensions by concern: `+Status` (health, transaction state), `+Statement`,
/// `+Executing` (one statement and the reconnect rule), `+Sending`, `+Waiting`,
/// `+Abandoning` (a deadline passed), `+Errors`, `+Results` (reading results) and
/// `+Pipeline`.
struct ConnectionState: ~Copyable {
    /// When a statement's wait for the server ends; nil: no limit.
    typealias Deadline = ContinuousClock.Instant

    /// The libpq connection; nil once closed.
    private(set) var handle: OpaquePointer?
    let logger: Logger
    /// Logs the server's notices instead of letting libpq print them to stderr.
    /// Referenced by the `PGconn` (as the notice receiver's argument), so it must live
    /// at least as long as the handle, which it does: `deinit` finishes the handle first.
    let notices: NoticeReceiver
    /// Set when an operation found the connection broken; the pool then discards it.
    var isBroken = false
    /// How long to wait for the server's answer to one statement (nil: no limit); see
    /// ``PostgresConfiguration/responseTimeout``. Changed for a while by
    /// ``PostgresConnection/withResponseTimeout(_:_:)``.
    var responseTimeout: Duration?
    /// Set by the pool while lending a connection that sat idle: if the *first*
    /// statement of the loan finds that the server had ended the session, reconnect and
    /// send it again (see `execute`). Cleared by the first statement.
    var reconnectIfTerminatedBeforeFirstStatement = false
    /// Whether parameterized statements are prepared once per session and then
    /// executed by name (see `preparedName`).
    let usesPreparedStatements: Bool
    /// The session's prepared statements: name by SQL text and parameter types.
    var preparedStatements: [PreparedKey: String] = [:]
    /// A session keeps at most this many; statements beyond it run unnamed.
    static let maximumPreparedStatements = 1000

    struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]

        /// Hashes the text's length and its ends, not all of it: a batch's statements
        /// are kilobytes long and looked up at every execution, and statements that
        /// differ only in their middle are rare. Equality still compares all of it.
        func hash(into hasher: inout Hasher) {
            hasher.combine(types)
            let utf8 = sql.utf8
            hasher.combine(utf8.count)
            let hashed: Void? = utf8.withContiguousStorageIfAvailable { bytes in
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.prefix(64))))
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(64))))
            }
            if hashed == nil { hasher.combine(sql) }
        }
    }

    init(configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) {
        let handle = try Self.open(configuration)
        self.handle = handle
        self.usesPreparedStatements = configuration.preparedStatements && configuration.poolMode == .session
        self.logger = logger
        self.notices = NoticeReceiver(logger: logger)
        self.responseTimeout = configuration.responseTimeout
        Self.prepareSession(handle)
        PQsetNoticeReceiver(handle, { argument, result in
            guard let argument, let result else { return }
            Unmanaged<NoticeReceiver>.fromOpaque(argument).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Settings of the libpq connection object, made again after every (re)connect.
    private static func prepareSession(_ handle: OpaquePointer) {
        // Verbose error text puts the SQLSTATE into PQerrorMessage ("FATAL:  57P01: …"),
        // the only place it survives when the server ends the session (see `failure`).
        // Results of ordinary errors are unaffected: their fields are read directly.
        PQsetErrorVerbosity(handle, PQERRORS_VERBOSE)
        // Sending never blocks: a statement is queued and flushed as the socket allows,
        // so a server that stops reading cannot hold a thread past the deadline (`flush`).
        // It also keeps PQfinish's goodbye from blocking on such a server.
        _ = PQsetnonblocking(handle, 1)
    }

    // MARK: Opening and closing

    /// Opens a libpq connection with `PQconnectdbParams` (blocking, bounded by
    /// `connect_timeout`).
    private static func open(_ configuration: PostgresConfiguration) throws(PostgresError) -> OpaquePointer {
        let parameters = configuration.connectionParameters
        if let bad = parameters.first(where: { $0.value.utf8.contains(0) }) {
            throw PostgresError(kind: .invalidConfiguration, message: "the connection parameter \(bad.keyword) contains a NUL byte")
        }
        let handle = withCStringArray(parameters.map(\.keyword), nullTerminated: true) { keywords in
            withCStringArray(parameters.map(\.value), nullTerminated: true) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let handle else {
            throw PostgresError(kind: .client, message: "libpq could not allocate a connection (out of memory)")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.normalizedMessage(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw PostgresError(
                kind: .connectionFailed,
                message: "could not connect to PostgreSQL (\(configuration.redactedDescription)): \(reason)"
            )
        }
        return handle
    }

    mutating func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    /// Reopens the session with the same parameters (`PQreset`), keeping the notice receiver.
    mutating func reconnect() throws(PostgresError) {
        guard let handle else { throw Self.closedError }
        PQreset(handle)
        Self.prepareSession(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            isBroken = true
            let reason = Self.normalizedMessage(String(cString: PQerrorMessage(handle)))
            throw PostgresError(kind: .connectionFailed, message: "could not reconnect to PostgreSQL: \(reason)")
        }
        isBroken = false
        notices.receivedFatal = false
        preparedStatements.removeAll()  // they belonged to the old session
    }

    static let closedError = PostgresError(kind: .connectionLost, message: "the connection is closed")

    /// Whether the server cancelled a wait for the synchronous standby since the last
    /// call (see ``NoticeReceiver/canceledSynchronousReplicationWait``); clears it.
    func takeCanceledSynchronousReplicationWait() -> Bool {
        defer { notices.canceledSynchronousReplicationWait = false }
        return notices.canceledSynchronousReplicationWait
    }
}
