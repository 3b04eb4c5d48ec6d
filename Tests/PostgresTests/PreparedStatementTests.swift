import TestSupport
import Testing
@testable import Postgres

@Suite("Prepared statements")
struct PreparedStatementTests {
    /// The session's prepared statements, from PostgreSQL's own view of them.
    private func prepared(on connection: PostgresConnection) throws -> [String] {
        // This statement is prepared too (when they are on): leave it out of the list.
        let listing = "SELECT statement FROM pg_prepared_statements ORDER BY prepare_time"
        return try connection.query(PostgresQuery(sql: listing)).map { try $0.decode(0, as: String.self) }.filter { $0 != listing }
    }

    @Test func aStatementIsPreparedOnceAndExecutedByNameAfterwards() throws {
        try TestDatabase.withConnection { connection throws in
            for value in 1...3 {
                #expect(try connection.query("SELECT \(value)::int8 + 1").first!.decode(0, as: Int.self) == value + 1)
            }
            _ = try connection.query("SELECT \("text")::text")
            let statements = try prepared(on: connection)
            #expect(statements == ["SELECT $1::int8 + 1", "SELECT $1::text"])
        }
    }

    @Test func offMeansUnnamedStatementsOnly() throws {
        try TestDatabase.withConnection(configure: { $0.preparedStatements = false }) { connection throws in
            _ = try connection.query("SELECT \(1)::int8")
            _ = try connection.query("SELECT \(1)::int8")
            #expect(try prepared(on: connection).isEmpty)
        }
    }

    @Test func theSameTextWithOtherParameterTypesIsASeparateStatement() throws {
        try TestDatabase.withConnection { connection throws in
            // An integer is sent as int8, a string as text: a statement prepared for one
            // would make the server read the other's value as the wrong type.
            #expect(try connection.query("SELECT pg_typeof(\(1))::text").first!.decode(0, as: String.self) == "bigint")
            #expect(try connection.query("SELECT pg_typeof(\("x"))::text").first!.decode(0, as: String.self) == "text")
            #expect(try prepared(on: connection).count == 2)
        }
    }

    @Test func anErrorWhilePreparingIsTheServersErrorAndTheSessionGoesOn() throws {
        try TestDatabase.withConnection { connection throws in
            do {
                _ = try connection.query("SELEC \(1)")
                Issue.record("a syntax error was accepted")
            } catch let error as PostgresError {
                #expect(error.code == .syntaxError)
                #expect(error.kind == .server)
            }
            #expect(try connection.query("SELECT \(7)::int8").first!.decode(0, as: Int.self) == 7)
            #expect(try prepared(on: connection) == ["SELECT $1::int8"], "the failed statement is not kept")
        }
    }

    @Test func inAFailedTransactionTheStatementIsRefusedAndPreparedLater() throws {
        try TestDatabase.withConnection { connection throws in
            try connection.simpleExecute("CREATE TABLE t (id int PRIMARY KEY)")
            do {
                try connection.transaction { connection throws in
                    _ = try? connection.execute("INSERT INTO t VALUES (\(1)), (\(1))")
                    _ = try connection.query("SELECT count(*) FROM t WHERE id > \(0)")
                }
                Issue.record("a statement ran in an aborted transaction")
            } catch let error as PostgresError {
                #expect(error.code == .inFailedSQLTransaction)
            }
            #expect(try connection.query("SELECT count(*) FROM t WHERE id > \(0)").first!.decode(0, as: Int.self) == 0)
        }
    }

    @Test func aReconnectedSessionPreparesAgain() throws {
        try TestDatabase.withDatabase { configuration throws in
            let pool = PostgresConnectionPool(configuration: configuration, maximumConnections: 1, logger: TestDatabase.logger)
            defer { pool.close() }
            let before = try pool.withConnection { connection throws in
                _ = try connection.query("SELECT \(1)::int8")
                return connection.backendPID
            }
            try TestDatabase.terminate(before)
            let (after, value) = try pool.withConnection { connection throws in
                (connection.backendPID, try connection.query("SELECT \(41)::int8 + 1").first!.decode(0, as: Int.self))
            }
            #expect(after != before)
            #expect(value == 42)
        }
    }
}
