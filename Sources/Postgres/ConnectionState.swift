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
struct ConnectionState: ~Copyable {
    /// When a statement's wait for the server ends; nil: no limit.
    typealias Deadline = ContinuousClock.Instant

    /// The libpq connection; nil once closed.
    private(set) var handle: OpaquePointer?
    let logger: Logger
    /// Logs the server's notices instead of letting libpq print them to stderr.
    /// Referenced by the `PGconn` (as the notice receiver's argument), so it must live
    /// at least as long as the handle, which it does: `deinit` finishes the handle first.
    private let notices: NoticeReceiver
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

    // MARK: State

    var isHealthy: Bool {
        guard let handle, !isBroken else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    var backendPID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    var transactionStatus: PostgresTransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// For a connection that sat idle in the pool: false if the server has closed it.
    ///
    /// After `pg_terminate_backend`, a server restart or `idle_session_timeout`, the
    /// server sends a FATAL message and closes the socket, but libpq only notices when
    /// it next reads, so `PQstatus` still says OK. An idle session should have nothing
    /// to read; if the socket is readable, let libpq read and parse what is there (a
    /// FATAL goodbye reaches the notice receiver, end-of-stream sets CONNECTION_BAD).
    /// Harmless input (a NOTICE, a parameter change after a configuration reload)
    /// leaves the connection usable.
    mutating func checkAliveAfterIdle() -> Bool {
        guard let handle, isHealthy else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else {
            isBroken = true
            return false
        }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, 0) > 0 {
            for _ in 0..<2 {
                guard PQconsumeInput(handle) != 0 else { break }
                _ = PQisBusy(handle)  // parses buffered messages
                while let notification = PQnotifies(handle) { PQfreemem(notification) }
            }
        }
        if PQstatus(handle) != CONNECTION_OK || notices.receivedFatal {
            isBroken = true
            return false
        }
        return true
    }

    // MARK: Executing

    /// A statement to send.
    enum Statement {
        /// One statement with bind parameters (`PQsendQueryParams`, extended protocol).
        case parameterized(PostgresQuery)
        /// Caller-supplied SQL text, possibly several statements (`PQsendQuery`, simple protocol).
        case simple(String)
        /// One fixed command of this module (`BEGIN …`, `COMMIT`, `ROLLBACK`), via `PQsendQuery`.
        case command(String)

        var sql: String {
            switch self {
            case .parameterized(let query): query.sql
            case .simple(let sql), .command(let sql): sql
            }
        }

        /// Whether a statement cut short by the server terminating the session may be
        /// sent again: a single statement is aborted whole, but caller-supplied text may
        /// hold its own COMMIT, after which the part before it stays committed.
        var isAbortedWholeByTermination: Bool {
            switch self {
            case .parameterized, .command: true
            case .simple: false
            }
        }
    }

    /// Sends `statement` and returns its complete result.
    ///
    /// The reconnect rule, only for the first statement of a pool loan of a connection
    /// that sat idle (so no earlier work of the caller can be lost or repeated):
    ///
    /// 1. Before sending, the socket is checked (`checkAliveAfterIdle`). If the server
    ///    has already closed the session, the connection is reopened and the statement
    ///    sent on the new session. Safe: nothing was sent.
    /// 2. If a single statement (not `simpleExecute` text, which may hold its own
    ///    COMMIT) fails because the server ended the session (SQLSTATE 57P01
    ///    admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now or 57P05
    ///    idle_session_timeout, and the connection then closed), it is sent once more
    ///    on a new session. Safe: a terminated session aborts what it was running.
    ///
    /// Any other connection loss (a network failure, a crash without goodbye) is not
    /// retried: the statement may have committed before the connection broke. Nor is
    /// a loss on any later statement of the loan.
    mutating func execute(_ statement: Statement) throws(PostgresError) -> PostgresRows {
        guard handle != nil else { throw Self.closedError }
        try Self.validate(statement)
        return try applyingReconnectRule(resendable: statement.isAbortedWholeByTermination) { state throws(PostgresError) in
            try state.executeOnce(statement)
        }
    }

    /// Runs `send` (one exchange with the server) under the reconnect rule of
    /// `execute`; `resendable`: whether what it sends is aborted whole when the
    /// server ends the session, so that sending it again is safe.
    mutating func applyingReconnectRule<Result>(
        resendable: Bool, _ send: (inout ConnectionState) throws(PostgresError) -> Result
    ) throws(PostgresError) -> Result {
        let mayReconnect = reconnectIfTerminatedBeforeFirstStatement
        reconnectIfTerminatedBeforeFirstStatement = false
        if mayReconnect, !checkAliveAfterIdle() {
            logger.notice("the server had closed this pooled connection while it was idle; reconnecting before sending the statement")
            try reconnect()
        }
        do throws(PostgresError) {
            return try send(&self)
        } catch let error where mayReconnect && error.isSessionTerminatedByServer && resendable {
            logger.notice(
                "the server had ended this pooled connection's session while it was idle; reconnecting and sending the statement again",
                metadata: ["sqlstate": "\(error.code?.rawValue ?? "")"]
            )
            try reconnect()
            return try send(&self)
        }
    }

    /// Refuses what cannot be sent faithfully, instead of letting C strings cut it short.
    static func validate(_ statement: Statement) throws(PostgresError) {
        if containsNUL(statement.sql) {
            throw PostgresError(kind: .invalidQuery, message: "the SQL text contains a NUL byte", query: statement.sql)
        }
        guard case .parameterized(let query) = statement else { return }
        // The protocol counts parameters in 16 bits.
        guard query.bindings.count <= 65535 else {
            throw PostgresError(kind: .invalidQuery, message: "\(query.bindings.count) bind parameters; PostgreSQL accepts at most 65535 per statement", query: query.sql)
        }
        for (index, binding) in query.bindings.enumerated() where binding.text.map(containsNUL) == true {
            throw PostgresError(
                kind: .invalidQuery,
                message: "bind parameter $\(index + 1) contains a NUL byte, which PostgreSQL text values cannot hold",
                query: query.sql
            )
        }
    }

    /// One round trip: send the statement, wait for its result, turn it into rows or an
    /// error. Every wait is bounded by the statement's deadline (`responseTimeout`).
    mutating func executeOnce(_ statement: Statement) throws(PostgresError) -> PostgresRows {
        guard let handle else { throw Self.closedError }
        let deadline = responseTimeout.map { ContinuousClock.now + $0 }
        try send(statement, on: handle, by: deadline)
        let result = try lastResult(of: statement, on: handle, by: deadline)
        defer { if let result { PQclear(result) } }
        guard let result else { throw failure(nil, statement) }

        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.rows(of: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw failure(result, statement)
        case PGRES_COPY_IN:
            // The server now waits for data that will never come: end the COPY with an
            // error and swallow the results, which leaves the session usable.
            if PQputCopyEnd(handle, "COPY FROM STDIN is not supported by this client") == 1 {
                try flush(statement, on: handle, by: deadline)
                try discardResults(of: statement, on: handle, by: deadline)
            } else {
                isBroken = true
            }
            throw unsupported("COPY … FROM STDIN", statement)
        case PGRES_COPY_OUT:
            try discardCopyData(of: statement, on: handle, by: deadline)
            try discardResults(of: statement, on: handle, by: deadline)
            throw unsupported("COPY … TO STDOUT", statement)
        default:
            // COPY BOTH (replication) or a pipeline state: no way back to a plain session.
            isBroken = true
            throw unsupported("a result of type \(String(cString: PQresStatus(status)))", statement)
        }
    }

    // MARK: Sending

    /// Hands the statement to libpq and flushes it to the server by `deadline`.
    ///
    /// The connection is in libpq's nonblocking mode, so `PQsendQuery…` only queue the
    /// statement; a large one that the server does not read (because it is hung) stays
    /// partly in libpq's buffer, and `flush` gives up at the deadline instead of blocking.
    private mutating func send(_ statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        let queued: Int32
        switch statement {
        case .simple(let sql), .command(let sql):
            // The String-to-pointer conversion lives for the duration of the call.
            queued = PQsendQuery(handle, sql)
        case .parameterized(let query):
            let types = query.bindings.map { Oid($0.dataType.rawValue) }
            let name = try preparedName(query, types: types, statement: statement, on: handle, by: deadline)
            queued = withCStringArray(query.bindings.map(\.text), nullTerminated: false) { values in
                // Text format for every parameter (paramFormats nil) and for the result (0);
                // paramLengths is ignored for text parameters.
                if let name {
                    return PQsendQueryPrepared(handle, name, Int32(types.count), values, nil, nil, 0)
                }
                return types.withUnsafeBufferPointer { types in
                    PQsendQueryParams(handle, query.sql, Int32(types.count), types.baseAddress, values, nil, nil, 0)
                }
            }
        }
        guard queued == 1 else { throw failure(nil, statement) }
        try flush(statement, on: handle, by: deadline)
    }

    /// The name under which `query` is prepared in this session, preparing it on
    /// first use (one more round trip, once per session); nil when it is to run
    /// unnamed (prepared statements off, or the session already holds the maximum).
    ///
    /// An unnamed statement is parsed and planned on every execution, which costs
    /// PostgreSQL more than executing most of this server's statements; a prepared
    /// one is parsed once per session and, after a few executions, runs a cached
    /// generic plan where that is no worse. Prepared statements are per session, so
    /// they do not survive a reconnect, and do not work through a pooler in
    /// transaction mode (PgBouncer before 1.21).
    private mutating func preparedName(
        _ query: PostgresQuery, types: [Oid], statement: Statement, on handle: OpaquePointer, by deadline: Deadline?
    ) throws(PostgresError) -> String? {
        guard usesPreparedStatements else { return nil }
        let key = PreparedKey(sql: query.sql, types: types)
        if let name = preparedStatements[key] { return name }
        guard preparedStatements.count < Self.maximumPreparedStatements else { return nil }
        let name = "cr\(preparedStatements.count + 1)"
        let queued = types.withUnsafeBufferPointer { types in
            PQsendPrepare(handle, name, query.sql, Int32(types.count), types.baseAddress)
        }
        guard queued == 1 else { throw failure(nil, statement) }
        try flush(statement, on: handle, by: deadline)
        let result = try lastResult(of: statement, on: handle, by: deadline)
        defer { if let result { PQclear(result) } }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(result, statement) }
        preparedStatements[key] = name
        return name
    }

    /// Writes what libpq has queued, waiting for the socket by `deadline`.
    mutating func flush(_ statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        while true {
            switch PQflush(handle) {
            case 0:
                return
            case 1:
                guard Self.waitForSocket(of: handle, events: Int16(POLLIN | POLLOUT), until: deadline) else {
                    throw abandon(statement, on: handle)
                }
                // Whatever the server sends meanwhile must be read, or both sides could
                // wait on full buffers (libpq's documented flush loop).
                guard PQconsumeInput(handle) == 1 else { throw failure(nil, statement) }
            default:
                throw failure(nil, statement)
            }
        }
    }

    // MARK: Waiting for results

    /// The statement's result, as `PQexec` returns it: the last one when SQL text holds
    /// several statements (an error ends the text, so it is then the last), stopping
    /// early at a COPY, which needs the caller. nil only if libpq produced none.
    private mutating func lastResult(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) -> OpaquePointer? {
        var last: OpaquePointer?
        do throws(PostgresError) {
            while let result = try nextResult(of: statement, on: handle, by: deadline) {
                if let last { PQclear(last) }
                last = result
                switch PQresultStatus(result) {
                case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                    return result
                default:
                    if PQstatus(handle) == CONNECTION_BAD { return result }
                }
            }
        } catch {
            if let last { PQclear(last) }
            throw error
        }
        return last
    }

    /// Waits until libpq holds the next result, or knows there is none, then takes it;
    /// so `PQgetResult` never blocks. Throws when `deadline` passes first.
    mutating func nextResult(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) -> OpaquePointer? {
        while PQisBusy(handle) != 0 {
            guard Self.waitForSocket(of: handle, events: Int16(POLLIN), until: deadline) else {
                throw abandon(statement, on: handle)
            }
            // On failure the connection is gone (closed socket): PQgetResult then returns
            // the error at once, without waiting.
            guard PQconsumeInput(handle) == 1 else { break }
        }
        return PQgetResult(handle)
    }

    /// Reads and drops the rows of a `COPY … TO STDOUT`, by `deadline`.
    private mutating func discardCopyData(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        var buffer: UnsafeMutablePointer<CChar>?
        while true {
            let length = PQgetCopyData(handle, &buffer, 1)
            if let data = buffer {
                PQfreemem(data)
                buffer = nil
            }
            guard length == 0 else {
                if length > 0 { continue }
                return  // -1: the COPY is over; -2: failed. The results say which.
            }
            guard Self.waitForSocket(of: handle, events: Int16(POLLIN), until: deadline) else {
                throw abandon(statement, on: handle)
            }
            guard PQconsumeInput(handle) == 1 else { return }
        }
    }

    /// Drops the results still to come, by `deadline`.
    private mutating func discardResults(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        while let result = try nextResult(of: statement, on: handle, by: deadline) { PQclear(result) }
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    /// Waits until the connection's socket is ready for `events`; false once `deadline`
    /// has passed (nil: no deadline). True also when the socket is unusable: libpq's
    /// next call then reports the broken connection.
    private static func waitForSocket(of handle: OpaquePointer, events: Int16, until deadline: Deadline?) -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { return false }
                // Rounded up, so the wait never ends just short of the deadline and spins.
                timeout = Int32(clamping: PostgresConfiguration.milliseconds(remaining))
            }
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    // MARK: Giving up

    /// The statement's deadline passed: the server did not answer in time (hung, stopped,
    /// cut off by the network, or overloaded). Nothing more can be sent on this session
    /// before the answer arrives, so it is closed; the server is asked to cancel the
    /// statement, without waiting (see ``CancelRequest``). Whether the statement took
    /// effect is unknown, as with any lost connection (during COMMIT, the transaction
    /// turns it into `.commitOutcomeUnknown`).
    private mutating func abandon(_ statement: Statement, on handle: OpaquePointer) -> PostgresError {
        let backendPID = PQbackendPID(handle)
        let cancel = PQgetCancel(handle)
        isBroken = true
        close()
        if let cancel { CancelRequest.send(cancel, backendPID: backendPID, logger: logger) }
        let waited = responseTimeout.map { PostgresConnectionPool.format($0) } ?? "the time allowed"
        logger.warning(
            "PostgreSQL did not answer within \(waited); abandoning the statement and closing the connection",
            metadata: ["backend_pid": "\(backendPID)"]
        )
        return PostgresError(
            kind: .connectionLost,
            message: "PostgreSQL did not answer within \(waited); the statement was abandoned and the connection closed, so it may or may not have taken effect",
            query: statement.sql
        )
    }

    // MARK: Results and errors

    func unsupported(_ what: String, _ statement: Statement) -> PostgresError {
        PostgresError(kind: .client, message: "\(what) is not supported by this client; the statement was abandoned", query: statement.sql)
    }

    /// The error for a failed statement: a server error with its diagnostics, or a
    /// lost connection when libpq reports the connection bad or the server sent a FATAL
    /// error (after which it always closes the session).
    mutating func failure(_ result: OpaquePointer?, _ statement: Statement) -> PostgresError {
        var error: PostgresError
        if let result, let primary = Self.field(result, "M") {
            error = PostgresError(
                kind: .server,
                message: primary,
                code: Self.field(result, "C").map(SQLState.init(rawValue:)),
                detail: Self.field(result, "D"),
                hint: Self.field(result, "H"),
                constraint: Self.field(result, "n"),
                table: Self.field(result, "t"),
                column: Self.field(result, "c"),
                schema: Self.field(result, "s"),
                severity: Self.field(result, "V")
            )
        } else {
            var text = result.map { String(cString: PQresultErrorMessage($0)) } ?? ""
            if text.isEmpty, let handle { text = String(cString: PQerrorMessage(handle)) }
            text = Self.normalizedMessage(text)
            error = PostgresError(kind: .client, message: text.isEmpty ? "libpq returned no result" : text)
        }
        let connectionBad = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        if connectionBad, error.code == nil, let handle,
           let (code, message) = Self.serverError(inConnectionMessage: String(cString: PQerrorMessage(handle))) {
            // The server said why it ended the session (e.g. 57P01 after
            // pg_terminate_backend), but libpq (14+) replaces that result with its own
            // "server closed the connection" once it sees the socket close, keeping the
            // server's words only in the connection's error text. Take them from there.
            error.code = code
            error.message = "\(message) (the server closed the connection)"
            error.severity = "FATAL"
        }
        if connectionBad || error.severity == "FATAL" || error.severity == "PANIC" {
            error.kind = .connectionLost
            isBroken = true
        }
        error.query = statement.sql
        return error
    }
}
