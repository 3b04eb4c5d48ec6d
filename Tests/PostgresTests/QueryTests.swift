import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Queries")
struct QueryTests {
    @Test func interpolatedValuesBecomeNumberedBindParameters() {
        let id = 42
        let name: String? = nil
        let query: PostgresQuery = "SELECT * FROM t WHERE id = \(id) AND name = \(name) AND tag = \("x")"
        #expect(query.sql == "SELECT * FROM t WHERE id = $1 AND name = $2 AND tag = $3")
        #expect(query.bindings == [
            PostgresBinding(text: "42", dataType: .int8),
            PostgresBinding(text: nil, dataType: .text),
            PostgresBinding(text: "x", dataType: .text),
        ])
        #expect(query.description == "SELECT * FROM t WHERE id = $1 AND name = $2 AND tag = $3 [3 bindings]")
    }

    @Test func identifiersAreQuotedAndUnescapedFragmentsAreInsertedAsIs() {
        let table = #"we"ird ta"ble"#
        let query: PostgresQuery = "SELECT \(unescaped: "count(*)") FROM \(identifier: table) WHERE x = \(1)"
        #expect(query.sql == #"SELECT count(*) FROM "we""ird ta""ble" WHERE x = $1"#)
        #expect(PostgresQuery.quoteIdentifier("plain") == #""plain""#)
        // A quote followed by a combining mark is one Character but must still be doubled.
        #expect(PostgresQuery.quoteIdentifier("a\"\u{301}b") == "\"a\"\"\u{301}b\"")
    }

    @Test func explicitSQLAndBindings() throws {
        try TestDatabase.withConnection { conn throws in
            let query = PostgresQuery(sql: "SELECT $1::int8 + $2::int8", bindings: [PostgresBinding(2), PostgresBinding(3)])
            #expect(try conn.query(query).first!.decode(0, as: Int.self) == 5)
        }
    }

    @Test func sqlInjectionAttemptsStayData() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)")
            let attacks = [
                "'; DROP TABLE users; --",
                "Robert'); DROP TABLE users;--",
                "1 OR 1=1",
                "$1",
                "\\'; SELECT pg_sleep(10); --",
                "\" OR \"\"=\"",
            ]
            for attack in attacks {
                try conn.execute("INSERT INTO users (name) VALUES (\(attack))")
                let found = try conn.query("SELECT name FROM users WHERE name = \(attack)")
                #expect(found.count == 1)
                #expect(try found.first?.decode("name", as: String.self) == attack)
            }
            #expect(try conn.query("SELECT count(*) FROM users WHERE name = \("1 OR 1=1")").first!.decode(0, as: Int.self) == 1)
            #expect(try conn.query("SELECT count(*) FROM users").first!.decode(0, as: Int.self) == attacks.count)

            // An attacker-chosen identifier is quoted, so it names a (missing) table instead of running SQL.
            let error = expectPostgresError {
                try conn.query("SELECT * FROM \(identifier: "users; DROP TABLE users")")
            }
            #expect(error?.code == .undefinedTable)
            #expect(try conn.query("SELECT count(*) FROM users").first!.decode(0, as: Int.self) == attacks.count)
        }
    }

    @Test func executeReturnsTheAffectedRowCountAndQueryTheCommandTag() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 5)")
            #expect(try conn.execute("UPDATE t SET n = n + 1 WHERE n > \(2)") == 3)
            #expect(try conn.execute("DELETE FROM t WHERE n = \(6)") == 1)
            #expect(try conn.execute("CREATE INDEX ON t (n)") == 0)
            let rows = try conn.query("SELECT n FROM t ORDER BY n")
            #expect(rows.commandTag == "SELECT 4")
            #expect(rows.affectedRowCount == 4)
            #expect(try rows.map { try $0.decode(0, as: Int.self) } == [1, 2, 4, 5])
            #expect(rows.columns == [PostgresColumn(name: "n", dataType: .int4)])
        }
    }

    @Test func simpleExecuteRunsSeveralStatements() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("""
                CREATE TABLE a (x int);
                INSERT INTO a VALUES (1), (2);
                -- a comment
                INSERT INTO a VALUES (3);
                """)
            #expect(try conn.query("SELECT sum(x) FROM a").first!.decode(0, as: Int.self) == 6)
            try conn.simpleExecute("-- only a comment")  // an empty query is not an error
        }
    }

    @Test func failingStatementInSimpleExecuteRollsBackTheImplicitTransaction() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE a (x int)")
            let error = expectPostgresError {
                try conn.simpleExecute("INSERT INTO a VALUES (1); INSERT INTO a VALUES ('not a number')")
            }
            #expect(error?.code == .invalidTextRepresentation)
            #expect(try conn.query("SELECT count(*) FROM a").first!.decode(0, as: Int.self) == 0)
        }
    }

    @Test func nulBytesAreRefusedBeforeSending() throws {
        try TestDatabase.withConnection { conn throws in
            let inParameter = expectPostgresError { try conn.query("SELECT \("a\0b")") }
            #expect(inParameter?.kind == .invalidQuery)
            #expect(inParameter?.message.contains("$1") == true)
            let inSQL = expectPostgresError { try conn.query(PostgresQuery(sql: "SELECT 1\0")) }
            #expect(inSQL?.kind == .invalidQuery)
            let inSimple = expectPostgresError { try conn.simpleExecute("SELECT 1;\0") }
            #expect(inSimple?.kind == .invalidQuery)
            #expect(conn.isHealthy)
            #expect(try conn.query("SELECT 1").first!.decode(0, as: Int.self) == 1)
        }
    }

    @Test func moreThan65535ParametersAreRefused() throws {
        try TestDatabase.withConnection { conn throws in
            let bindings = Array(repeating: PostgresBinding(1), count: 65536)
            let error = expectPostgresError { try conn.query(PostgresQuery(sql: "SELECT 1", bindings: bindings)) }
            #expect(error?.kind == .invalidQuery)
            #expect(error?.message.contains("65535") == true)
        }
    }

    @Test func syntaxErrorIsAServerErrorAndTheConnectionStaysUsable() throws {
        try TestDatabase.withConnection { conn throws in
            let error = expectPostgresError { try conn.query("SELEC 1") }
            #expect(error?.kind == .server)
            #expect(error?.code == .syntaxError)
            #expect(error?.severity == "ERROR")
            #expect(error?.query == "SELEC 1")
            #expect(error?.isConnectionLost == false)
            #expect(error?.description.contains("42601 (syntax_error)") == true)
            #expect(conn.isHealthy)
            #expect(try conn.query("SELECT 2").first!.decode(0, as: Int.self) == 2)
        }
    }

    @Test func copyIsRefusedAndTheSessionRecovers() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("CREATE TABLE c (x int); INSERT INTO c VALUES (1)")
            let copyIn = expectPostgresError { try conn.simpleExecute("COPY c FROM STDIN") }
            #expect(copyIn?.kind == .client)
            #expect(copyIn?.message.contains("COPY") == true)
            let copyOut = expectPostgresError { try conn.query("COPY c TO STDOUT") }
            #expect(copyOut?.kind == .client)
            #expect(conn.isHealthy)
            #expect(conn.transactionStatus == .idle)
            #expect(try conn.query("SELECT count(*) FROM c").first!.decode(0, as: Int.self) == 1)
        }
    }

    @Test func noticesAndWarningsDoNotDisturbTheSession() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute("DO $$ BEGIN RAISE NOTICE 'hello'; RAISE WARNING 'careful'; END $$")
            try conn.simpleExecute("DROP TABLE IF EXISTS nothing_here")
            #expect(try conn.query("SELECT 1").first!.decode(0, as: Int.self) == 1)
        }
    }

    @Test func closedConnectionRefusesWork() throws {
        try TestDatabase.withDatabase { config throws in
            let conn = try PostgresConnection.connect(config)
            #expect(conn.backendPID > 0)
            conn.close()
            conn.close()  // idempotent
            #expect(!conn.isHealthy)
            #expect(conn.backendPID == 0)
            #expect(conn.transactionStatus == .unknown)
            let error = expectPostgresError { try conn.query("SELECT 1") }
            #expect(error?.kind == .connectionLost)
            #expect(error?.message.contains("closed") == true)
        }
    }

    @Test func killedBackendIsReportedAsConnectionLost() throws {
        try TestDatabase.withConnection { conn throws in
            try TestDatabase.terminate(conn.backendPID)
            let error = expectPostgresError { try conn.query("SELECT 1") }
            #expect(error?.kind == .connectionLost)
            #expect(error?.isConnectionLost == true)
            #expect(error?.isRetryableTransactionFailure == false)
            #expect(!conn.isHealthy)
            // A connection that is not lent by a pool is never reconnected behind the caller's back.
            let again = expectPostgresError { try conn.query("SELECT 1") }
            #expect(again?.isConnectionLost == true)
        }
    }

    @Test func oneConnectionUsedFromTwoThreadsIsSerializedNotCorrupted() throws {
        try TestDatabase.withConnection { conn throws in
            let threads = (0..<4).map { index in
                TestThread { () throws -> [Int] in
                    try (0..<25).map { step in
                        try conn.query("SELECT \(index * 100 + step)").first!.decode(0, as: Int.self)
                    }
                }
            }
            for (index, thread) in threads.enumerated() {
                #expect(try thread.join() == (0..<25).map { index * 100 + $0 })
            }
        }
    }
}
