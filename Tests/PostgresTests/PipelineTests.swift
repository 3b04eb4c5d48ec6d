import TestSupport
import Testing
@testable import Postgres

@Suite("Pipelines")
struct PipelineTests {
    private func count(_ connection: PostgresConnection) throws -> Int {
        try connection.query("SELECT count(*) FROM t").first!.decode(0, as: Int.self)
    }

    private func prepared(on connection: PostgresConnection) throws -> [String] {
        let listing = "SELECT statement FROM pg_prepared_statements ORDER BY statement"
        return try connection.query(PostgresQuery(sql: listing)).map { try $0.decode(0, as: String.self) }.filter { $0 != listing }
    }

    @Test func returnsEachStatementsRowsInOrderAndPreparesEachTextOnce() throws {
        try TestDatabase.withConnection { connection throws in
            try connection.simpleExecute("CREATE TABLE t (x int)")
            for round in 1...3 {
                let results = try connection.pipeline([
                    "INSERT INTO t VALUES (\(round)) RETURNING x",
                    "SELECT \(round)::int8 * 10",
                    "SELECT \(round)::int8 * 10",  // the same text twice in one pipeline
                    "SELECT count(*) FROM t",
                ])
                #expect(results.count == 4)
                #expect(try results[0].first!.decode(0, as: Int.self) == round)
                #expect(try results[1].first!.decode(0, as: Int.self) == round * 10)
                #expect(try results[2].first!.decode(0, as: Int.self) == round * 10)
                #expect(try results[3].first!.decode(0, as: Int.self) == round)
            }
            #expect(try prepared(on: connection) == ["INSERT INTO t VALUES ($1) RETURNING x", "SELECT $1::int8 * 10", "SELECT count(*) FROM t"])
            #expect(try connection.pipeline([]).isEmpty)
        }
    }

    @Test func withoutPreparedStatementsEveryStatementRunsUnnamed() throws {
        try TestDatabase.withConnection(configure: { $0.preparedStatements = false }) { connection throws in
            let results = try connection.pipeline(["SELECT \(1)::int8", "SELECT \("a")::text"])
            #expect(try results[1].first!.decode(0, as: String.self) == "a")
            #expect(try prepared(on: connection).isEmpty)
        }
    }

    @Test func aFailingStatementSkipsTheRestUndoesTheImplicitTransactionAndLeavesTheConnectionUsable() throws {
        try TestDatabase.withConnection { connection throws in
            try connection.simpleExecute("CREATE TABLE t (x int PRIMARY KEY)")
            let error = expectPostgresError {
                _ = try connection.pipeline(["INSERT INTO t VALUES (\(1))", "INSERT INTO t VALUES (\(1))", "INSERT INTO t VALUES (\(2))"])
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.kind == .server)
            #expect(connection.isHealthy)
            #expect(connection.transactionStatus == .idle)
            #expect(try count(connection) == 0)
            // A statement that fails to prepare (here: a syntax error) fails the same way.
            let syntax = expectPostgresError { _ = try connection.pipeline(["INSERT INTO t VALUES (\(3))", "SELEKT \(1)"]) }
            #expect(syntax?.code == .syntaxError)
            #expect(try connection.pipeline(["INSERT INTO t VALUES (\(4))"]).count == 1)
            #expect(try count(connection) == 1)
        }
    }

    @Test func beginWithAndCommitAfterMakeATransactionOfTwoRoundTrips() throws {
        try TestDatabase.withDatabase { config throws in
            let connection = try PostgresConnection.connect(config)
            let other = try PostgresConnection.connect(config)
            defer { connection.close(); other.close() }
            try connection.simpleExecute("CREATE TABLE t (x int PRIMARY KEY); INSERT INTO t VALUES (1)")
            let read = try connection.begin(isolation: .repeatableRead, with: ["SELECT x FROM t FOR UPDATE", "SHOW transaction_isolation"])
            #expect(try read[0].first!.decode(0, as: Int.self) == 1)
            #expect(try read[1].first!.decode(0, as: String.self) == "repeatable read")
            #expect(connection.transactionStatus == .inTransaction)
            let written = try connection.commit(after: ["INSERT INTO t VALUES (\(2)) RETURNING x"])
            #expect(written.count == 1)
            #expect(try written[0].first!.decode(0, as: Int.self) == 2)
            #expect(connection.transactionStatus == .idle)
            #expect(try count(other) == 2)

            // A failing write rolls the whole transaction back, the lookup's locks with it.
            _ = try connection.begin(with: ["INSERT INTO t VALUES (\(3))"])
            let error = expectPostgresError { _ = try connection.commit(after: ["INSERT INTO t VALUES (\(1))"]) }
            #expect(error?.code == .uniqueViolation)
            #expect(connection.transactionStatus == .idle)
            #expect(try count(other) == 2)

            // A failing lookup ends the transaction it opened.
            let lookup = expectPostgresError { try connection.begin(with: ["SELECT 1/\(0)"]) }
            #expect(lookup?.code == .divisionByZero)
            #expect(connection.transactionStatus == .idle)

            // rollback() undoes an open transaction; begin refuses to nest.
            _ = try connection.begin(with: ["INSERT INTO t VALUES (\(4))"])
            #expect(expectPostgresError { try connection.begin(with: []) }?.kind == .invalidUsage)
            connection.rollback()
            #expect(connection.transactionStatus == .idle)
            #expect(try count(other) == 2)
            #expect(expectPostgresError { try connection.commit(after: []) }?.kind == .invalidUsage)
        }
    }

    @Test func connectionLostWhileCommittingIsCommitOutcomeUnknown() throws {
        try TestDatabase.withConnection { connection throws in
            try connection.simpleExecute("CREATE TABLE t (x int)")
            _ = try connection.begin(with: ["INSERT INTO t VALUES (\(1))"])
            try TestDatabase.terminate(connection.backendPID)
            let error = expectPostgresError { try connection.commit(after: ["INSERT INTO t VALUES (\(2))"]) }
            #expect(error?.kind == .commitOutcomeUnknown)
            #expect(error?.message.contains("may or may not have committed") == true)
            #expect(!connection.isHealthy)
        }
    }

    @Test func aPipelinePastTheResponseTimeoutIsAbandonedAndTheConnectionClosed() throws {
        try TestDatabase.withConnection(configure: { $0.responseTimeout = .milliseconds(300) }) { connection throws in
            let error = expectPostgresError { _ = try connection.pipeline(["SELECT 1", "SELECT pg_sleep(\(5))"]) }
            #expect(error?.kind == .connectionLost)
            #expect(error?.message.contains("did not answer within") == true)
            #expect(!connection.isHealthy)
        }
    }

    @Test func aPooledConnectionTheServerClosedWhileIdleIsReopenedBeforeThePipeline() throws {
        try TestDatabase.withDatabase { config throws in
            let pool = PostgresConnectionPool(configuration: config, maximumConnections: 1)
            defer { pool.close() }
            let pid = try pool.withConnection { $0.backendPID }
            try TestDatabase.terminate(pid)
            let rows = try pool.withConnection { connection in
                try connection.begin(with: ["SELECT \(7)::int8"]).first!.first!.decode(0, as: Int.self)
            }
            #expect(rows == 7)
        }
    }
}
