import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to reach PostgreSQL and how every session is set up.
///
/// Built from a `DATABASE_URL`, in URI form (`postgresql://user:pw@host:5432/db?sslmode=require`)
/// or libpq's key=value form (`host=/run/pg port=5432 dbname=app`). The URL is handed
/// to libpq unchanged as the `dbname` keyword of `PQconnectdbParams` with
/// `expand_dbname=1`; the other settings travel as separate keywords, never by
/// assembling a connection string.
///
/// Every session gets `TimeZone=UTC`, `DateStyle=ISO, YMD`, `extra_float_digits=1` and
/// `client_encoding=UTF8`, which the decoders rely on, plus `statement_timeout` as configured. These are
/// startup options (the `options` keyword), so they are in force before the first
/// statement without an extra round trip; `options` in the URL are kept and ours are
/// appended after them (so ours win).
///
/// Through a connection pooler in transaction mode (``PoolMode/transaction``), the
/// `options` startup parameter is not sent: PgBouncer 1.18 refuses it ("unsupported
/// startup parameter: options"), and a session setting would not follow the client
/// from one server session to the next anyway. `TimeZone` and `DateStyle` then travel
/// as startup parameters of their own, which PgBouncer tracks and sets on whichever
/// server session it lends (see ``exportTrackedSessionParameters()``); the statement
/// timeout is the server's (`ALTER ROLE … SET statement_timeout`), and
/// `extra_float_digits` PostgreSQL's default (1 since PostgreSQL 12).
///
/// Printing a configuration shows `redactedDescription`: the password never appears.
public struct PostgresConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How connections map to server sessions, which decides how the session settings travel.
    public enum PoolMode: String, Sendable, CaseIterable {
        /// Each connection is a server session of its own: a direct connection, or a
        /// pooler in session mode. The settings are startup options (`options`).
        case session
        /// The URL is a pooler in transaction mode (PgBouncer `pool_mode = transaction`),
        /// which lends a server session per transaction: nothing may rely on session
        /// state, and no `options` startup parameter is sent.
        case transaction
    }

    /// The URL as given. Private so it cannot be logged by accident.
    private let databaseURL: String
    /// The URL's parameters with secrets masked, for `redactedDescription`.
    private let displayParameters: [DisplayParameter]
    /// The `options` parameter of the URL, which ours are merged into.
    private let urlOptions: String?

    /// Connects to this database instead of the one in the URL (e.g. a per-test database).
    public var database: String?
    /// `application_name` (seen in `pg_stat_activity`); a value in the URL takes precedence.
    public var applicationName: String
    /// How long to wait for a connection to open (libpq counts whole seconds, at least 2).
    /// A `connect_timeout` in the URL takes precedence.
    public var connectTimeout: Duration
    /// The server cancels statements running longer than this (SQLSTATE `57014`);
    /// nil disables the limit.
    public var statementTimeout: Duration?
    /// How long the client waits for the server's answer to one statement. Past it, the
    /// client asks the server to cancel the statement, closes the connection and throws
    /// `.connectionLost` (`.commitOutcomeUnknown` during a transaction's `COMMIT`): the
    /// bound when the server cannot answer at all (stopped, hung, cut off by the
    /// network), which `statementTimeout`, enforced by the server, is not. Keep it a few
    /// seconds above `statementTimeout`, so that a statement that is merely slow is
    /// cancelled by the server, which keeps the connection usable. nil: no limit.
    public var responseTimeout: Duration?
    /// TCP keepalives, so a silently dead peer is noticed: idle time before the first probe…
    public var keepalivesIdle: Duration
    /// …time between probes…
    public var keepalivesInterval: Duration
    /// …and probes lost before the connection counts as dead. (Unix sockets ignore all three.)
    public var keepalivesCount: Int
    /// Direct (or session pooling), or through a pooler in transaction mode.
    public var poolMode: PoolMode
    /// Prepare each parameterized statement once per session and execute it by name
    /// (the default). Never in ``PoolMode/transaction``, whatever this says: a
    /// pooler lending sessions per transaction (PgBouncer before 1.21) loses them.
    public var preparedStatements = true

    /// Checks `url` with libpq's own parser, so a malformed `DATABASE_URL` fails here,
    /// at start-up, with libpq's explanation.
    ///
    /// - Throws: ``PostgresError`` of kind `.invalidConfiguration`.
    public init(
        url: String,
        database: String? = nil,
        applicationName: String = "connector-receiver",
        connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = .seconds(30),
        responseTimeout: Duration? = .seconds(35),
        keepalivesIdle: Duration = .seconds(30),
        keepalivesInterval: Duration = .seconds(10),
        keepalivesCount: Int = 3,
        poolMode: PoolMode = .session
    ) throws(PostgresError) {
        guard !url.allSatisfy(\.isWhitespace) else {
            throw PostgresError(kind: .invalidConfiguration, message: "the database URL is empty; set DATABASE_URL to postgresql://user:password@host:port/database or host=… dbname=…")
        }
        guard !url.utf8.contains(0) else {
            throw PostgresError(kind: .invalidConfiguration, message: "the database URL contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorMessage) else {
            var reason = "libpq could not parse it"
            if let errorMessage {
                reason = String(cString: errorMessage).trimmingTrailingWhitespace
                PQfreemem(errorMessage)
            }
            throw PostgresError(
                kind: .invalidConfiguration,
                message: "the database URL is not a valid PostgreSQL connection string: \(reason); expected postgresql://user:password@host:port/database or key=value pairs"
            )
        }
        defer { PQconninfoFree(options) }

        var display: [DisplayParameter] = []
        var urlOptions: String?
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                let key = String(cString: keyword)
                let text = String(cString: value)
                // dispchar "*" marks secrets (password, sslpassword): never shown.
                let isSecret = option.pointee.dispchar.map { String(cString: $0) == "*" } ?? false
                display.append(DisplayParameter(keyword: key, value: isSecret ? "********" : text))
                if key == "options" { urlOptions = text }
            }
            option += 1
        }

        self.databaseURL = url
        self.displayParameters = display
        self.urlOptions = urlOptions
        self.database = database
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.responseTimeout = responseTimeout
        self.keepalivesIdle = keepalivesIdle
        self.keepalivesInterval = keepalivesInterval
        self.keepalivesCount = keepalivesCount
        self.poolMode = poolMode
    }

    /// For ``PoolMode/transaction``: sets `PGTZ=UTC` and `PGDATESTYLE=ISO, YMD` in the
    /// process environment, from which libpq sends the startup parameters `TimeZone`
    /// and `DateStyle` (libpq has no connection keyword for them). PgBouncer tracks
    /// both and sets them on every server session it lends this client. `setenv` is
    /// not thread-safe: call this at start-up, before other threads may read the
    /// environment.
    public static func exportTrackedSessionParameters() {
        setenv("PGTZ", "UTC", 1)
        setenv("PGDATESTYLE", "ISO, YMD", 1)
    }

    /// The connection target without secrets: `host=db port=5432 user=app dbname=app password=********`.
    public var redactedDescription: String {
        var parts = displayParameters.map { "\($0.keyword)=\($0.value)" }
        if let database { parts.append("database override=\(database)") }
        return parts.isEmpty ? "libpq defaults" : parts.joined(separator: " ")
    }

    public var description: String { redactedDescription }
    public var debugDescription: String { "PostgresConfiguration(\(redactedDescription))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["target": redactedDescription], displayStyle: .struct)
    }

    /// The settings every session starts with, in the `options` syntax
    /// (`-c name=value`, spaces and backslashes escaped with a backslash).
    var sessionOptions: String {
        var settings: [(String, String)] = [
            ("TimeZone", "UTC"),
            ("DateStyle", "ISO, YMD"),
            ("statement_timeout", statementTimeout.map { String(Self.milliseconds($0)) } ?? "0"),
            // Shortest exact float output (the default since PostgreSQL 12, pinned here
            // against a server configured otherwise): Double round-trips bit for bit.
            ("extra_float_digits", "1"),
        ]
        settings.sort { $0.0 < $1.0 }
        let ours = settings.map { "-c \(Self.escapeOption($0.0))=\(Self.escapeOption($0.1))" }.joined(separator: " ")
        if let urlOptions, !urlOptions.isEmpty { return urlOptions + " " + ours }
        return ours
    }

    /// The keyword/value pairs for `PQconnectdbParams`. libpq reads them in order and the
    /// last occurrence of a keyword wins, and the expanded URL takes the place of
    /// `dbname`: so defaults the URL may override come before it, and the settings the
    /// decoders depend on come after it.
    var connectionParameters: [(keyword: String, value: String)] {
        var parameters: [(keyword: String, value: String)] = [
            ("connect_timeout", String(Self.wholeSecondsRoundingUp(connectTimeout))),
            ("keepalives", "1"),
            ("keepalives_idle", String(Self.wholeSecondsRoundingUp(keepalivesIdle))),
            ("keepalives_interval", String(Self.wholeSecondsRoundingUp(keepalivesInterval))),
            ("keepalives_count", String(keepalivesCount)),
            ("application_name", applicationName),
            ("dbname", databaseURL),
            ("client_encoding", "UTF8"),
        ]
        if poolMode == .session { parameters.append(("options", sessionOptions)) }
        // Only the first dbname is expanded as a connection string; a later one is a plain name.
        if let database { parameters.append(("dbname", database)) }
        return parameters
    }

    /// Whole milliseconds, rounding up, so that a tiny positive timeout does not become
    /// 0 (which PostgreSQL reads as "no timeout").
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let partial = attoseconds % attosecondsPerMillisecond > 0 ? 1 : 0
        return max(0, seconds * 1000 + attoseconds / attosecondsPerMillisecond + Int64(partial))
    }

    private static func wholeSecondsRoundingUp(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }

    private static func escapeOption(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\\" { escaped.unicodeScalars.append("\\") }
            escaped.unicodeScalars.append(scalar)
        }
        return escaped
    }

    private struct DisplayParameter: Sendable {
        let keyword: String
        let value: String
    }
}

extension String {
    var trimmingTrailingWhitespace: String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
