import Dispatch
import Foundation
import OutboundHTTP
import Postgres
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `serve`'s admission control and rate limiting, as the flags and environment set them.
@Suite struct OverloadTests {
    @Test func aStalledDatabaseFillsTheWorkersAndTheExcessIsShedWhileHealthzAndMetricsAnswer() throws {
        try TurnupDatabase.with { database in
            let added = try database.run(["turnup", "add", "acme", "--name", "Acme", "--club", "club-001=Downtown"])
            let username = try #require(TurnupDatabase.field("Username", in: added.output), "\(added.output)")
            let password = try #require(TurnupDatabase.field("Password", in: added.output))
            let auth = OutboundRequest.BasicAuth(username: username, password: password)
            let server = try ReceiverProcess(
                arguments: ["--worker-threads", "1", "--max-queued-requests", "0", "--access-log", "off"],
                environment: [
                    "DATABASE_URL": database.url, "RECEIVER_QUEUE_TIMEOUT": "3",
                    // One request per 100 s after a burst of two: deterministic within the test.
                    "RECEIVER_CLIENT_RATE_LIMIT": "0.01", "RECEIVER_CLIENT_RATE_BURST": "2",
                ])
            try server.waitUntilListening()
            let url = "http://127.0.0.1:\(server.port)"
            @Sendable func call(_ path: String, auth: OutboundRequest.BasicAuth? = auth) throws -> OutboundResponse {
                try OutboundHTTPClient.shared.send(OutboundRequest(url: url + path, basicAuth: auth, totalTimeout: .seconds(20)))
            }

            // Stall the database: the one worker blocks in authentication behind the lock.
            let locker = try PostgresConnection.connect(try PostgresConfiguration(url: database.url))
            defer { locker.close() }
            try locker.execute("BEGIN")
            try locker.execute("LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE")
            let blocked = Mutex<OutboundResponse?>(nil)
            let blockedDone = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let response = try? call("/v1/lead-sources")
                blocked.withLock { $0 = response }
                blockedDone.signal()
            }
            // From another session: pg_stat_activity is a snapshot per transaction.
            let observer = try PostgresConnection.connect(try PostgresConfiguration(url: database.url))
            defer { observer.close() }
            let waiting = {
                (try? observer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                    .first?.decode("n", as: Int.self)) ?? 0
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while waiting() < 1 && ContinuousClock.now < deadline { usleep(20_000) }
            #expect(waiting() == 1, "the first request waits on the lock")

            // The excess is answered at once, from the event loop.
            let start = ContinuousClock.now
            let shed = try call("/v1/lead-sources")
            let took = ContinuousClock.now - start
            #expect(shed.status == 503)
            #expect(took < .seconds(1), "a shed request took \(took)")
            #expect(shed.header("Retry-After") == "2")
            #expect(shed.header("Content-Type") == "application/problem+json")
            let body = String(decoding: shed.body, as: UTF8.self)
            #expect(body.contains(#""type":"urn:connector-receiver:problem:overloaded""#), "\(body)")
            // Liveness and metrics still answer.
            #expect(try call("/healthz", auth: nil).status == 200)
            let metrics = try call("/metrics", auth: nil)
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"http_requests_shed_total{reason="queue_full"} 1"#))

            // The database comes back: the waiting request completes, service is normal.
            try locker.execute("ROLLBACK")
            #expect(blockedDone.wait(timeout: .now() + .seconds(20)) == .success)
            #expect(blocked.withLock { $0?.status } == 200)
            #expect(try call("/v1/lead-sources").status == 200)

            // The third authenticated request is over acme's rate.
            let limited = try call("/v1/lead-sources")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After").flatMap { Int($0) }.map { $0 >= 90 } == true)
            #expect(String(decoding: limited.body, as: UTF8.self).contains("urn:connector-receiver:problem:rate-limited"))

            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
        }
    }
}
