extension ConnectionState {
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
}
