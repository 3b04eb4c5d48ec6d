import CLibPQ

/// Several statements in one round trip, with libpq's pipeline mode.
extension ConnectionState {
    /// Sends `queries` together and returns their rows, in order: one write and one
    /// wait for all of them, where `execute` takes a round trip each. Statements not
    /// yet prepared in this session are prepared in the same pipeline.
    ///
    /// If a statement fails, the server skips the rest of the pipeline and the first
    /// error is thrown (a server error leaves the connection usable; inside a
    /// transaction, the transaction has failed). The reconnect rule is `execute`'s:
    /// a pipeline of single statements is aborted whole when the server ends the
    /// session, so it may be sent again on a new one. The caller must not send a
    /// pipeline that both commits and may be the first statement of a loan.
    mutating func executePipeline(_ queries: [PostgresQuery]) throws(PostgresError) -> [PostgresRows] {
        guard handle != nil else { throw Self.closedError }
        let statements = queries.map(Statement.parameterized)
        for statement in statements { try Self.validate(statement) }
        return try applyingReconnectRule(resendable: true) { state throws(PostgresError) in
            try state.executePipelineOnce(statements)
        }
    }

    /// What the pipeline holds, in the order the server answers.
    private enum Step {
        /// Preparing a statement under `name` (its first use in the session).
        case prepare(PreparedKey, name: String, Statement)
        /// Executing one of the caller's statements.
        case execute(Statement)

        var statement: Statement {
            switch self {
            case .prepare(_, _, let statement), .execute(let statement): statement
            }
        }
    }

    private mutating func executePipelineOnce(_ statements: [Statement]) throws(PostgresError) -> [PostgresRows] {
        guard let handle else { throw Self.closedError }
        guard let first = statements.first else { return [] }
        let deadline = responseTimeout.map { ContinuousClock.now + $0 }
        guard PQenterPipelineMode(handle) == 1 else { throw failure(nil, first) }
        do throws(PostgresError) {
            let steps = try queue(statements, on: handle)
            guard PQpipelineSync(handle) == 1 else { throw failure(nil, first) }
            try flush(first, on: handle, by: deadline)
            let rows = try results(of: steps, on: handle, by: deadline)
            guard PQexitPipelineMode(handle) == 1 else { throw failure(nil, first) }
            return try rows.get()
        } catch {
            // Whatever went wrong outside the statements themselves (the connection, a
            // result out of order) leaves the session in an unknown state. (`handle`
            // may have been closed meanwhile, by a deadline: ask `self.handle`.)
            if error.kind != .server { isBroken = true }
            if let live = self.handle, PQpipelineStatus(live) != PQ_PIPELINE_OFF { isBroken = true }
            throw error
        }
    }

    /// Hands every statement (and the preparation of those new to the session) to
    /// libpq, which only queues them: the connection is nonblocking.
    private mutating func queue(_ statements: [Statement], on handle: OpaquePointer) throws(PostgresError) -> [Step] {
        var steps: [Step] = []
        var preparing: [PreparedKey: String] = [:]
        for statement in statements {
            guard case .parameterized(let query) = statement else { preconditionFailure("pipelines hold parameterized statements") }
            let types = query.bindings.map { Oid($0.dataType.rawValue) }
            let key = PreparedKey(sql: query.sql, types: types)
            var name = preparedStatements[key] ?? preparing[key]
            if name == nil, usesPreparedStatements, preparedStatements.count + preparing.count < Self.maximumPreparedStatements {
                let newName = "cr\(preparedStatements.count + preparing.count + 1)"
                let queued = types.withUnsafeBufferPointer { types in
                    PQsendPrepare(handle, newName, query.sql, Int32(types.count), types.baseAddress)
                }
                guard queued == 1 else { throw failure(nil, statement) }
                preparing[key] = newName
                steps.append(.prepare(key, name: newName, statement))
                name = newName
            }
            let queued = withCStringArray(query.bindings.map(\.text), nullTerminated: false) { values in
                if let name {
                    return PQsendQueryPrepared(handle, name, Int32(types.count), values, nil, nil, 0)
                }
                return types.withUnsafeBufferPointer { types in
                    PQsendQueryParams(handle, query.sql, Int32(types.count), types.baseAddress, values, nil, nil, 0)
                }
            }
            guard queued == 1 else { throw failure(nil, statement) }
            steps.append(.execute(statement))
        }
        return steps
    }

    /// Reads each step's result (each followed by libpq's end-of-statement nil), then the
    /// pipeline's sync point. A server error is returned as the failure, after the
    /// pipeline has been read to its end; anything else is thrown at once.
    private mutating func results(
        of steps: [Step], on handle: OpaquePointer, by deadline: Deadline?
    ) throws(PostgresError) -> Result<[PostgresRows], PostgresError> {
        var rows: [PostgresRows] = []
        var firstError: PostgresError?
        for step in steps {
            let statement = step.statement
            guard let result = try nextResult(of: statement, on: handle, by: deadline) else { throw failure(nil, statement) }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                switch step {
                case .prepare(let key, let name, _): preparedStatements[key] = name
                case .execute: rows.append(Self.rows(of: result))
                }
            case PGRES_PIPELINE_ABORTED:
                break  // skipped after an earlier error
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                let error = failure(result, statement)
                guard error.kind == .server else { throw error }
                if firstError == nil { firstError = error }
            default:
                throw unsupported("a result of type \(String(cString: PQresStatus(PQresultStatus(result))))", statement)
            }
            if let extra = try nextResult(of: statement, on: handle, by: deadline) {
                PQclear(extra)
                throw unsupported("more than one result for one statement of a pipeline", statement)
            }
        }
        let last = steps[steps.count - 1].statement
        guard let sync = try nextResult(of: last, on: handle, by: deadline) else { throw failure(nil, last) }
        defer { PQclear(sync) }
        guard PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
            throw unsupported("a result of type \(String(cString: PQresStatus(PQresultStatus(sync)))) where the pipeline's end was due", last)
        }
        if let firstError { return .failure(firstError) }
        return .success(rows)
    }
}
