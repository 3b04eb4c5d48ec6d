import Foundation
import Postgres
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `serve` and `migrate` as an operator runs them, on the embedded default.
@Suite(.serialized) struct EmbeddedServeTests {
    private func withDataDirectory(_ body: (String) throws -> Void) throws {
        try withEmbeddedDataDirectory(prefix: "cr-cli", body)
    }

    private func postmasterPID(_ dataDirectory: String) -> pid_t? {
        TestSupport.postmasterPID(pgdata: dataDirectory + "/pgdata")
    }

    @Test func servesStopsOnSignalsRestartsOnTheSameDataAndSurvivesSIGKILL() throws {
        try withDataDirectory { dataDirectory in
            // First run: initializes, migrates, serves; SIGTERM stops server and cluster, exit 0.
            let first = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
            try first.waitUntilListening()
            #expect(try first.get("/healthz").status == 200)
            #expect(try first.get("/readyz").status == 200)
            #expect(first.log.contains("applied migration 0001_clients_and_clubs.sql"))
            let firstCluster = try #require(postmasterPID(dataDirectory))
            first.signal(SIGTERM)
            #expect(try first.waitForExit() == 0)
            #expect(kill(firstCluster, 0) != 0, "the cluster stops with the server")

            // Second run reuses the data: nothing to migrate. SIGINT stops it the same way.
            let second = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
            try second.waitUntilListening()
            #expect(second.log.contains("database schema is up to date"))
            #expect(!second.log.contains("initializing"))
            #expect(try second.get("/readyz").status == 200)
            let orphan = try #require(postmasterPID(dataDirectory))
            second.signal(SIGKILL)
            try second.waitUntilGone()
            #expect(kill(orphan, 0) == 0, "SIGKILL of the program leaves its cluster running")

            // Third run after the SIGKILL: stops the orphan, starts its own, serves.
            let third = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
            try third.waitUntilListening()
            #expect(third.log.contains("left running by an earlier run"))
            #expect(try third.get("/readyz").status == 200)
            third.signal(SIGINT)
            #expect(try third.waitForExit() == 0)
        }
    }

    @Test func migrateBesideARunningServeUsesItsCluster() throws {
        try withDataDirectory { dataDirectory in
            let server = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
            try server.waitUntilListening()
            let migrate = try Executable.run(["migrate", "--data-dir", dataDirectory], environment: ["DATABASE_URL": ""])
            #expect(migrate.status == 0, "\(migrate.output)")
            #expect(migrate.output.contains("database schema is up to date"))
            #expect(try server.get("/readyz").status == 200, "migrate must not stop the server's cluster")
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
        }
    }
}

@Suite struct CommandLineTests {
    @Test(arguments: [
        ([] as [String], ["serve", "migrate", "DATABASE_URL"]),
        (["serve", "--help"], ["--port", "RECEIVER_PORT", "--data-dir", "DATABASE_URL", "--pool-size", "--shutdown-grace",
                               "--statement-timeout", "RECEIVER_STATEMENT_TIMEOUT",
                               "--max-queued-requests", "RECEIVER_QUEUE_TIMEOUT", "--client-rate-limit", "RECEIVER_CLIENT_RATE_BURST"]),
        (["migrate", "--help"], ["--migrations-dir", "RECEIVER_MIGRATIONS_DIR", "checksum"]),
    ])
    func helpExplainsOptionsAndEnvironment(arguments: [String], expected: [String]) throws {
        let result = try Executable.run(arguments + (arguments.isEmpty ? ["--help"] : []))
        #expect(result.status == 0)
        for text in expected {
            #expect(result.output.contains(text), "help lacks \(text)")
        }
    }

    @Test(arguments: [
        (["serve", "--port", "70000"], "--port (or RECEIVER_PORT) must be from 0 to 65535"),
        (["serve", "--access-log", "maybe"], "must be on or off"),
        (["serve", "--statement-timeout=-1"], "--statement-timeout (or RECEIVER_STATEMENT_TIMEOUT) must be a number of seconds from 0 to 86400"),
        (["serve", "--max-queued-requests=-1"], "--max-queued-requests (or RECEIVER_MAX_QUEUED_REQUESTS) must be from 0"),
        (["serve", "--queue-timeout", "0"], "--queue-timeout (or RECEIVER_QUEUE_TIMEOUT) must be more than 0"),
        (["serve", "--client-rate-limit=-5"], "--client-rate-limit (or RECEIVER_CLIENT_RATE_LIMIT) must be from 0 (off)"),
        (["serve", "--log-level", "loud"], "Unknown log level 'loud'"),
        (["migrate", "--migrations-dir", "/nonexistent"], "Migrations directory /nonexistent does not exist"),
    ])
    func rejectsBadOptionsWithAClearMessage(arguments: [String], message: String) throws {
        let result = try Executable.run(arguments, environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
    }

    @Test func reportsAnUnreachableDatabase() throws {
        let result = try Executable.run(["migrate"], environment: ["DATABASE_URL": "host=127.0.0.1 port=9 connect_timeout=2"])
        #expect(result.status != 0)
        #expect(result.output.contains("127.0.0.1"), "\(result.output)")
    }
}
