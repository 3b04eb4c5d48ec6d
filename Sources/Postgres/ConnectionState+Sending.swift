import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Handing statements to libpq and flushing them to the server by their deadline.
extension ConnectionState {
    /// Hands the statement to libpq and flushes it to the server by `deadline`.
    ///
    /// The connection is in libpq's nonblocking mode, so `PQsendQuery…` only queue the
    /// statement; a large one that the server does not read (because it is hung) stays
    /// partly in libpq's buffer, and `flush` gives up at the deadline instead of blocking.
    mutating func send(_ statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
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
}
