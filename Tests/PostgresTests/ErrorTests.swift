import Foundation
import TestSupport
import Testing
@testable import Postgres

@Suite("Server errors")
struct ErrorTests {
    private static let schema = """
        CREATE TABLE staff (
            id serial PRIMARY KEY,
            email text NOT NULL CONSTRAINT staff_email_key UNIQUE,
            age int CONSTRAINT staff_age_check CHECK (age >= 0)
        );
        CREATE TABLE shifts (staff_id int NOT NULL CONSTRAINT shifts_staff_fkey REFERENCES staff (id));
        """

    @Test func uniqueViolationKeepsSQLStateAndConstraint() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute(Self.schema)
            try conn.execute("INSERT INTO staff (email) VALUES (\("a@example.com"))")
            let error = expectPostgresError { try conn.execute("INSERT INTO staff (email) VALUES (\("a@example.com"))") }
            #expect(error?.kind == .server)
            #expect(error?.code == .uniqueViolation)
            #expect(error?.code?.rawValue == "23505")
            #expect(error?.constraint == "staff_email_key")
            #expect(error?.table == "staff")
            #expect(error?.schema == "public")
            #expect(error?.detail?.contains("already exists") == true)
            #expect(error?.isRetryableTransactionFailure == false)
            #expect(error?.description.contains("23505 (unique_violation)") == true)
            #expect(error?.description.contains("staff_email_key") == true)
            #expect(conn.isHealthy)
        }
    }

    @Test func foreignKeyCheckAndNotNullViolations() throws {
        try TestDatabase.withConnection { conn throws in
            try conn.simpleExecute(Self.schema)
            let foreignKey = expectPostgresError { try conn.execute("INSERT INTO shifts VALUES (\(999))") }
            #expect(foreignKey?.code == .foreignKeyViolation)
            #expect(foreignKey?.constraint == "shifts_staff_fkey")
            let check = expectPostgresError { try conn.execute("INSERT INTO staff (email, age) VALUES (\("b@x"), \(-1))") }
            #expect(check?.code == .checkViolation)
            #expect(check?.constraint == "staff_age_check")
            let notNull = expectPostgresError { try conn.execute("INSERT INTO staff (email) VALUES (\(String?.none))") }
            #expect(notNull?.code == .notNullViolation)
            #expect(notNull?.column == "email")
        }
    }

    @Test func statementTimeoutIsQueryCanceled() throws {
        try TestDatabase.withConnection(configure: { $0.statementTimeout = .milliseconds(200) }) { conn throws in
            let started = ContinuousClock.now
            let error = expectPostgresError { try conn.query("SELECT pg_sleep(5)") }
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(error?.kind == .server)
            #expect(error?.code == .queryCanceled)
            #expect(error?.code?.rawValue == "57014")
            #expect(conn.isHealthy)
            #expect(try conn.query("SELECT 1").first!.decode(0, as: Int.self) == 1)
        }
    }

    @Test func sqlStateNamesAndClasses() {
        #expect(SQLState.serializationFailure.rawValue == "40001")
        #expect(SQLState.deadlockDetected.rawValue == "40P01")
        #expect(SQLState.adminShutdown.rawValue == "57P01")
        #expect(SQLState.uniqueViolation.errorClass == "23")
        #expect(SQLState("23505") == .uniqueViolation)
        #expect(SQLState("XX000").conditionName == nil)
        #expect(SQLState("XX000").description == "XX000")
        #expect(SQLState.queryCanceled.description == "57014 (query_canceled)")
    }

    @Test func errorClassificationHelpers() {
        let serialization = PostgresError(kind: .server, message: "x", code: .serializationFailure)
        #expect(serialization.isRetryableTransactionFailure)
        #expect(PostgresError(kind: .server, message: "x", code: .deadlockDetected).isRetryableTransactionFailure)
        #expect(!PostgresError(kind: .server, message: "x", code: .uniqueViolation).isRetryableTransactionFailure)
        let unknown = PostgresError(kind: .commitOutcomeUnknown, message: "x")
        #expect(unknown.isConnectionLost && unknown.isCommitOutcomeUnknown && !unknown.isRetryableTransactionFailure)
        let lost = PostgresError(kind: .connectionLost, message: "x", code: .adminShutdown)
        #expect(lost.isConnectionLost && !lost.isCommitOutcomeUnknown)
        #expect(lost.isSessionTerminatedByServer)
        #expect(!PostgresError(kind: .connectionLost, message: "network").isSessionTerminatedByServer)
    }

    @Test func serverErrorIsRecoveredFromLibpqsConnectionMessage() throws {
        let text = """
            FATAL:  57P01: terminating connection due to administrator command
            LOCATION:  ProcessInterrupts, postgres.c:3211
            server closed the connection unexpectedly
            \tThis probably means the server terminated abnormally
            """
        let (code, message) = try #require(ConnectionState.serverError(inConnectionMessage: text))
        #expect(code == .adminShutdown)
        #expect(message == "terminating connection due to administrator command")
        #expect(ConnectionState.serverError(inConnectionMessage: "server closed the connection unexpectedly\n") == nil)
        #expect(ConnectionState.serverError(inConnectionMessage: "could not send data to server: Broken pipe") == nil)
    }
}
