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
    /// The libpq connection; nil once closed.
    private(set) var handle: OpaquePointer?
    let logger: Logger
    /// Logs the server's notices instead of letting libpq print them to stderr.
    /// Referenced by the `PGconn` (as the notice receiver's argument), so it must live
    /// at least as long as the handle, which it does: `deinit` finishes the handle first.
    private let notices: NoticeReceiver
    /// Set when an operation found the connection broken; the pool then discards it.
    private(set) var isBroken = false
    /// Set by the pool while lending a connection that sat idle: if the *first*
    /// statement of the loan finds that the server had ended the session, reconnect and
    /// send it again (see `execute`). Cleared by the first statement.
    var reconnectIfTerminatedBeforeFirstStatement = false
    /// Whether parameterized statements are prepared once per session and then
    /// executed by name (see `preparedName`).
    private let usesPreparedStatements: Bool
    /// The session's prepared statements: name by SQL text and parameter types.
    private var preparedStatements: [PreparedKey: String] = [:]
    /// A session keeps at most this many; statements beyond it run unnamed.
    static let maximumPreparedStatements = 1000

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [Oid]
    }

    init(configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) {
        let handle = try Self.open(configuration)
        self.handle = handle
        self.usesPreparedStatements = configuration.preparedStatements && configuration.poolMode == .session
        self.logger = logger
        self.notices = NoticeReceiver(logger: logger)
        // Verbose error text puts the SQLSTATE into PQerrorMessage ("FATAL:  57P01: …"),
        // the only place it survives when the server ends the session (see `failure`).
        // Results of ordinary errors are unaffected: their fields are read directly.
        PQsetErrorVerbosity(handle, PQERRORS_VERBOSE)
        PQsetNoticeReceiver(handle, { argument, result in
            guard let argument, let result else { return }
            Unmanaged<NoticeReceiver>.fromOpaque(argument).takeUnretainedValue().receive(result)
        }, Unmanaged.passUnretained(notices).toOpaque())
    }

    deinit {
        if let handle { PQfinish(handle) }
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
    private mutating func reconnect() throws(PostgresError) {
        guard let handle else { throw Self.closedError }
        PQreset(handle)
        PQsetErrorVerbosity(handle, PQERRORS_VERBOSE)
        guard PQstatus(handle) == CONNECTION_OK else {
            isBroken = true
            let reason = Self.normalizedMessage(String(cString: PQerrorMessage(handle)))
            throw PostgresError(kind: .connectionFailed, message: "could not reconnect to PostgreSQL: \(reason)")
        }
        isBroken = false
        notices.receivedFatal = false
        preparedStatements.removeAll()  // they belonged to the old session
    }

    private static let closedError = PostgresError(kind: .connectionLost, message: "the connection is closed")

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
        /// One statement with bind parameters (`PQexecParams`).
        case parameterized(PostgresQuery)
        /// Caller-supplied SQL text, possibly several statements (`PQexec`).
        case simple(String)
        /// One fixed command of this module (`BEGIN …`, `COMMIT`, `ROLLBACK`), via `PQexec`.
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
        let mayReconnect = reconnectIfTerminatedBeforeFirstStatement
        reconnectIfTerminatedBeforeFirstStatement = false
        if mayReconnect, !checkAliveAfterIdle() {
            logger.notice("the server had closed this pooled connection while it was idle; reconnecting before sending the statement")
            try reconnect()
        }
        do throws(PostgresError) {
            return try executeOnce(statement)
        } catch let error where mayReconnect && error.isSessionTerminatedByServer && statement.isAbortedWholeByTermination {
            logger.notice(
                "the server had ended this pooled connection's session while it was idle; reconnecting and sending the statement again",
                metadata: ["sqlstate": "\(error.code?.rawValue ?? "")"]
            )
            try reconnect()
            return try executeOnce(statement)
        }
    }

    /// Refuses what cannot be sent faithfully, instead of letting C strings cut it short.
    private static func validate(_ statement: Statement) throws(PostgresError) {
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

    private mutating func executeOnce(_ statement: Statement) throws(PostgresError) -> PostgresRows {
        guard let handle else { throw Self.closedError }
        let result: OpaquePointer?
        switch statement {
        case .simple(let sql), .command(let sql):
            // The String-to-pointer conversion lives for the duration of the call.
            result = PQexec(handle, sql)
        case .parameterized(let query):
            let types = query.bindings.map { Oid($0.dataType.rawValue) }
            let name = try preparedName(query, types: types, statement: statement)
            result = withCStringArray(query.bindings.map(\.text), nullTerminated: false) { values in
                // Text format for every parameter (paramFormats nil) and for the result (0);
                // paramLengths is ignored for text parameters.
                if let name {
                    return PQexecPrepared(handle, name, Int32(types.count), values, nil, nil, 0)
                }
                return types.withUnsafeBufferPointer { types in
                    PQexecParams(handle, query.sql, Int32(types.count), types.baseAddress, values, nil, nil, 0)
                }
            }
        }
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
            _ = PQputCopyEnd(handle, "COPY FROM STDIN is not supported by this client")
            drainResults(handle)
            throw unsupported("COPY … FROM STDIN", statement)
        case PGRES_COPY_OUT:
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(handle, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
            drainResults(handle)
            throw unsupported("COPY … TO STDOUT", statement)
        default:
            // COPY BOTH (replication) or a pipeline state: no way back to a plain session.
            isBroken = true
            throw unsupported("a result of type \(String(cString: PQresStatus(status)))", statement)
        }
    }

    /// The name under which `query` is prepared in this session, preparing it on
    /// first use; nil when it is to run unnamed (prepared statements off, or the
    /// session already holds the maximum).
    ///
    /// An unnamed statement is parsed and planned on every execution, which costs
    /// PostgreSQL more than executing most of this server's statements; a prepared
    /// one is parsed once per session and, after a few executions, runs a cached
    /// generic plan where that is no worse. Prepared statements are per session, so
    /// they do not survive a reconnect, and do not work through a pooler in
    /// transaction mode (PgBouncer before 1.21): there, turn them off.
    private mutating func preparedName(_ query: PostgresQuery, types: [Oid], statement: Statement) throws(PostgresError) -> String? {
        guard usesPreparedStatements, let handle else { return nil }
        let key = PreparedKey(sql: query.sql, types: types)
        if let name = preparedStatements[key] { return name }
        guard preparedStatements.count < Self.maximumPreparedStatements else { return nil }
        let name = "cr\(preparedStatements.count + 1)"
        let result = types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, query.sql, Int32(types.count), types.baseAddress)
        }
        defer { if let result { PQclear(result) } }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(result, statement) }
        preparedStatements[key] = name
        return name
    }

    private mutating func drainResults(_ handle: OpaquePointer) {
        while let result = PQgetResult(handle) { PQclear(result) }
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    private func unsupported(_ what: String, _ statement: Statement) -> PostgresError {
        PostgresError(kind: .client, message: "\(what) is not supported by this client; the statement was abandoned", query: statement.sql)
    }

    /// The error for a failed statement: a server error with its diagnostics, or a
    /// lost connection when libpq reports the connection bad or the server sent a FATAL
    /// error (after which it always closes the session).
    private mutating func failure(_ result: OpaquePointer?, _ statement: Statement) -> PostgresError {
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

    /// Reads a whole result into memory. Values are decoded as UTF-8, which every
    /// session's `client_encoding=UTF8` guarantees they are.
    private static func rows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<Int32(columnCount) {
            columns.append(PostgresColumn(
                name: String(cString: PQfname(result, column)),
                dataType: PostgresDataType(PQftype(result, column))
            ))
        }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column),
                        count: Int(PQgetlength(result, row, column))
                    )
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            storage: PostgresResultStorage(columns: columns, rowCount: rowCount, values: values),
            commandTag: String(cString: PQcmdStatus(result)),
            affectedRowCount: affected
        )
    }

    /// Finds a server error in libpq's connection error text, which in verbose mode has
    /// the form `SEVERITY:  SQLSTATE: message` (the severity word may be translated; the
    /// SQLSTATE never is). Returns the code and message of the first such line.
    static func serverError(inConnectionMessage text: String) -> (SQLState, String)? {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let separator = line.firstRange(of: ":  ") else { continue }
            let rest = line[separator.upperBound...]
            let code = rest.prefix(5)
            guard code.count == 5,
                  code.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) }),
                  rest.dropFirst(5).hasPrefix(": ")
            else { continue }
            let message = rest.dropFirst(7).trimmingBlanks()
            return (SQLState(rawValue: String(code)), String(message))
        }
        return nil
    }

    /// A diagnostic field of an error result (`PG_DIAG_*`, which are single letters).
    static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(result, Int32(code.value)) else { return nil }
        return String(cString: value)
    }

    /// libpq's messages end in a newline and continue on tab-indented lines; make one line.
    static func normalizedMessage(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingBlanks() }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingBlanks() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
