import TestSupport
import Testing
@testable import Postgres

/// A `COMMIT` whose wait for the synchronous standby is cancelled returns success with
/// the WARNING "canceling wait for synchronous replication"; the transaction is then on
/// the primary only. The test server has no standby, so a deferred trigger raises the
/// same WARNING while `COMMIT` runs: what the client receives is the same message at
/// the same point of the exchange.
@Suite("Synchronous commit")
struct SynchronousCommitTests {
    private func prepare(_ conn: PostgresConnection) throws {
        try conn.simpleExecute("""
            CREATE TABLE t (x int);
            CREATE FUNCTION warn_like_sync_rep() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.x < 0 THEN
                    RAISE WARNING 'canceling wait for synchronous replication due to user request'
                        USING DETAIL = 'The transaction has already committed locally, but might not have been replicated to the standby.';
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION warn_like_sync_rep();
            """)
    }

    private func count(_ conn: PostgresConnection) throws -> Int {
        try conn.query("SELECT count(*) FROM t").first!.decode(0, as: Int.self)
    }

    @Test func aCancelledWaitForTheStandbyIsNotASuccessfulCommit() throws {
        try TestDatabase.withConnection { conn throws in
            try prepare(conn)
            // transaction { }: COMMIT on its own.
            let error = expectPostgresError {
                try conn.transaction { conn in _ = try conn.execute("INSERT INTO t VALUES (\(-1))") }
            }
            #expect(error?.kind == .commitOutcomeUnknown)
            #expect(error?.message.contains("synchronous standby") == true)
            // It did commit, on this server: the outcome is unknown, not a failure.
            #expect(try count(conn) == 1)

            // commit(after:): the queries and COMMIT in one round trip.
            try conn.begin(with: [])
            let pipelined = expectPostgresError {
                try conn.commit(after: [PostgresQuery(sql: "INSERT INTO t VALUES (\(-2))")])
            }
            #expect(pipelined?.kind == .commitOutcomeUnknown)
            #expect(try count(conn) == 2)

            // The flag does not outlive its commit: the next commits succeed, the same
            // WARNING raised by a statement before COMMIT (not by COMMIT) included.
            try conn.transaction { conn in _ = try conn.execute("INSERT INTO t VALUES (\(1))") }
            try conn.query("DO $$ BEGIN RAISE WARNING 'canceling wait for synchronous replication (not from a commit)'; END $$")
            try conn.transaction { conn in _ = try conn.execute("INSERT INTO t VALUES (\(2))") }
            #expect(try count(conn) == 4)
        }
    }
}
