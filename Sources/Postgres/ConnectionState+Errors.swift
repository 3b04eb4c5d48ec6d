import CLibPQ

/// The errors of failed statements, with the server's diagnostics.
extension ConnectionState {
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
