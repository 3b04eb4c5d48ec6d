import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// A save whose `COMMIT` is cut off — the connection lost, or the database silent past
/// the response timeout — has an unknown outcome: it is answered `503`, never `2xx`.
///
/// The commit is made to take time for real: a deferred constraint trigger runs
/// `pg_sleep` at COMMIT, so the session is provably inside COMMIT when it is cut.
@Suite(.serialized) struct CommitOutcomeTests {
    static let body = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Adams"}"#

    /// Every COMMIT that wrote a prospect waits `seconds` inside the commit.
    static func slowCommits(_ configuration: PostgresConfiguration, seconds: Double) throws {
        let connection = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        defer { connection.close() }
        try connection.simpleExecute("""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(\(seconds)); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON prospects
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
            """)
    }

    static func fastCommits(_ configuration: PostgresConfiguration) throws {
        let connection = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        defer { connection.close() }
        try connection.simpleExecute("DROP TRIGGER slow_commit ON prospects")
    }

    /// What the test keeps of a response (crossing threads).
    struct Outcome: Sendable {
        let status: Int
        let type: String?
        let retryAfter: String?
        let seconds: Double
    }

    static func save(_ server: TestServer, _ credentials: APICredentials, externalId: String) -> Outcome {
        let started = ContinuousClock.now
        do {
            let response = try server.request("PUT", "/v1/prospects/by-external-id/\(externalId)", json: body, auth: credentials)
            return Outcome(status: response.status, type: response.string("type"), retryAfter: response.header("Retry-After"),
                           seconds: (ContinuousClock.now - started).seconds)
        } catch {
            return Outcome(status: -1, type: "\(error)", retryAfter: nil, seconds: (ContinuousClock.now - started).seconds)
        }
    }

    static func count(_ configuration: PostgresConfiguration, externalId: String) throws -> Int {
        let connection = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
        defer { connection.close() }
        return try connection.query("SELECT count(*) FROM prospects WHERE external_id = \(externalId)").first!.decode(0, as: Int.self)
    }

    @Test func aCommitCutOffByALostConnectionIsAnswered503NeverSuccess() throws {
        try TestDatabase.withMigratedDatabase { configuration in
            try TestServer.run(database: configuration) { server in
                let credentials = try server.turnUp("acme")
                try Self.slowCommits(configuration, seconds: 30)
                let pending = Mutex<Outcome?>(nil)
                let done = DispatchSemaphore(value: 0)
                Thread.detachNewThread {
                    let outcome = Self.save(server, credentials, externalId: "cut-1")
                    pending.withLock { $0 = outcome }
                    done.signal()
                }

                // The server process of the request's session, waiting inside COMMIT.
                let admin = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
                defer { admin.close() }
                var committing: Int32?
                for _ in 0..<200 where committing == nil {
                    committing = try admin.query("""
                        SELECT pid FROM pg_stat_activity
                        WHERE datname = current_database() AND state = 'active' AND query = 'COMMIT' AND wait_event = 'PgSleep'
                        """).first?.decode(0, as: Int32.self)
                    if committing == nil { usleep(50_000) }
                }
                let pid = try #require(committing, "no session reached COMMIT")
                #expect(try admin.query("SELECT pg_terminate_backend(\(pid))").first!.decode(0, as: Bool.self))

                #expect(done.wait(timeout: .now() + 20) == .success, "the cut-off save was never answered")
                let outcome = try #require(pending.withLock { $0 })
                print("reliability: commit cut off (pg_terminate_backend during COMMIT): \(outcome.status) \(outcome.type ?? "") in \(String(format: "%.2f", outcome.seconds)) s")
                #expect(outcome.status == 503)
                #expect(outcome.type == "urn:connector-receiver:problem:outcome-unknown")
                #expect(outcome.retryAfter != nil)

                // Terminated inside COMMIT before the commit record: nothing was written,
                // and the Connector's retry creates the record.
                try Self.fastCommits(configuration)
                #expect(try Self.count(configuration, externalId: "cut-1") == 0)
                #expect(Self.save(server, credentials, externalId: "cut-1").status == 201)
                #expect(try Self.count(configuration, externalId: "cut-1") == 1)
            }
        }
    }

    @Test func aCommitPastTheResponseTimeoutIsAnswered503NeverSuccess() throws {
        try TestDatabase.withMigratedDatabase { configuration in
            var bounded = configuration
            bounded.statementTimeout = nil
            bounded.responseTimeout = .seconds(1)
            try TestServer.run(database: bounded) { server in
                let credentials = try server.turnUp("acme")
                try Self.slowCommits(configuration, seconds: 5)
                let outcome = Self.save(server, credentials, externalId: "slow-1")
                print("reliability: commit past the response timeout (1 s, commit takes 5 s): \(outcome.status) \(outcome.type ?? "") in \(String(format: "%.2f", outcome.seconds)) s")
                #expect(outcome.status == 503)
                #expect(outcome.type == "urn:connector-receiver:problem:outcome-unknown")
                #expect(outcome.seconds < 4, "answered after \(outcome.seconds) s")

                // Whatever that commit did, the retry leaves exactly one record.
                try Self.fastCommits(configuration)
                let retry = Self.save(server, credentials, externalId: "slow-1")
                #expect(retry.status == 201 || retry.status == 200, "\(retry)")
                #expect(try Self.count(configuration, externalId: "slow-1") == 1)
            }
        }
    }
}
