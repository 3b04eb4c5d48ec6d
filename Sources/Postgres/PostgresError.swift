/// Every error this module throws.
///
/// `kind` says what went wrong at the level a caller acts on (the server refused a
/// statement, the connection broke, the pool had no connection to give, a column
/// could not be decoded…); for server errors `code` keeps the SQLSTATE and the
/// other fields keep the server's diagnostics, so callers can map, for example,
/// `23505` on a known `constraint` to an HTTP 409.
///
/// The description never contains parameter values or passwords (it can contain
/// the server's `DETAIL`, which quotes the offending key, as PostgreSQL's own log does).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, at the level a caller acts on.
    public enum Kind: String, Sendable, Hashable, CustomStringConvertible {
        /// The server executed the statement and reported an error; `code` is set.
        case server
        /// A connection could not be opened (server down, authentication failed, bad database name…).
        case connectionFailed
        /// An open connection broke (server restarted, backend terminated, network failure).
        /// The statement in flight may or may not have run; the connection is unusable.
        case connectionLost
        /// The connection broke while `COMMIT` was in flight: the transaction may have
        /// committed or not, and nobody can tell from here. Never report success for such a request.
        /// Also when `COMMIT` stopped waiting for the synchronous standby (committed on
        /// the primary only, which a failover may lose).
        case commitOutcomeUnknown
        /// No pooled connection became free within the pool's acquire timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// A result column could not be decoded as the requested Swift type.
        case decoding
        /// The statement cannot be sent as written (NUL byte in the text, too many parameters).
        case invalidQuery
        /// The API was used in a way it does not support (e.g. a transaction inside a transaction).
        case invalidUsage
        /// The connection string or another configuration value is invalid.
        case invalidConfiguration
        /// libpq reported a failure that is neither a server error nor a lost connection
        /// (out of memory, an unsupported result such as COPY).
        case client
        /// The migrator refused to run or a migration failed; `message` names the file.
        case migration

        public var description: String { rawValue }
    }

    /// What went wrong, at the level a caller acts on.
    public var kind: Kind
    /// The primary message: the server's message for server errors, ours otherwise.
    public var message: String
    /// The SQLSTATE, when the server sent one.
    public var code: SQLState?
    /// The server's DETAIL line (e.g. `Key (email)=(a@example.com) already exists.`).
    public var detail: String?
    /// The server's HINT line.
    public var hint: String?
    /// The violated constraint's name (`PG_DIAG_CONSTRAINT_NAME`), for integrity violations.
    public var constraint: String?
    /// The table the error is about (`PG_DIAG_TABLE_NAME`), when the server says.
    public var table: String?
    /// The column the error is about: `PG_DIAG_COLUMN_NAME` for server errors,
    /// the result column for decoding errors.
    public var column: String?
    /// The schema of `table` (`PG_DIAG_SCHEMA_NAME`).
    public var schema: String?
    /// The server's severity, not localized (`ERROR`, `FATAL`, `PANIC`).
    public var severity: String?
    /// The SQL text of the statement that failed (never its parameter values).
    public var query: String?

    public init(
        kind: Kind,
        message: String,
        code: SQLState? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil,
        schema: String? = nil,
        severity: String? = nil,
        query: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.code = code
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.schema = schema
        self.severity = severity
        self.query = query
    }

    /// True when the connection is gone: the operation may or may not have taken effect,
    /// and the connection must not be used again (the pool discards it).
    /// Also true for `commitOutcomeUnknown`.
    public var isConnectionLost: Bool {
        kind == .connectionLost || kind == .commitOutcomeUnknown
    }

    /// True when the connection broke while `COMMIT` was in flight, so nobody knows
    /// whether the transaction committed. A request that ends like this must not get a 2xx.
    public var isCommitOutcomeUnknown: Bool {
        kind == .commitOutcomeUnknown
    }

    /// True for the failures PostgreSQL asks clients to handle by running the whole
    /// transaction again: serialization failure (`40001`) and deadlock (`40P01`).
    /// The server has rolled the transaction back; nothing of it took effect.
    public var isRetryableTransactionFailure: Bool {
        kind == .server && (code == .serializationFailure || code == .deadlockDetected)
    }

    /// True when the server ended the session on purpose before or while running the
    /// statement (`pg_terminate_backend`, shutdown, crash recovery, idle timeout). Such a
    /// termination aborts whatever transaction was open, so the statement did not commit.
    var isSessionTerminatedByServer: Bool {
        guard kind == .connectionLost, let code else { return false }
        return code == .adminShutdown || code == .crashShutdown || code == .cannotConnectNow
            || code == .idleSessionTimeout
    }

    public var description: String {
        var text = "\(kind.descriptionPrefix): \(message)"
        if let code { text += " [SQLSTATE \(code)]" }
        if let detail { text += " DETAIL: \(detail)" }
        if let hint { text += " HINT: \(hint)" }
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }
}

extension PostgresError.Kind {
    fileprivate var descriptionPrefix: String {
        switch self {
        case .server: "PostgreSQL error"
        case .connectionFailed: "cannot connect to PostgreSQL"
        case .connectionLost: "PostgreSQL connection lost"
        case .commitOutcomeUnknown: "PostgreSQL connection lost during COMMIT (outcome unknown)"
        case .poolTimeout: "PostgreSQL pool timeout"
        case .poolClosed: "PostgreSQL pool closed"
        case .decoding: "PostgreSQL decoding error"
        case .invalidQuery: "invalid PostgreSQL query"
        case .invalidUsage: "invalid use of the PostgreSQL API"
        case .invalidConfiguration: "invalid PostgreSQL configuration"
        case .client: "PostgreSQL client error"
        case .migration: "database migration failed"
        }
    }
}
