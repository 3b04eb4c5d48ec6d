import Foundation
import Postgres
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct OperationsTests {
    @Test func servesHealthReadinessMetricsAndTheContract() throws {
        let document = Array("openapi: 3.1.0\n".utf8)
        let configuration = ReceiverService.Configuration(renderMetrics: { Array("# metrics\n".utf8) }, openAPIDocument: document)
        try TestServer.run(service: configuration) { server in
            let health = try server.request("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.body == #"{"status":"ok"}"#)
            #expect(health.header("X-Request-Id") != nil)
            #expect(try server.request("GET", "/readyz").status == 200)
            let metrics = try server.request("GET", "/metrics")
            #expect(metrics.body == "# metrics\n")
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            let contract = try server.request("GET", "/openapi.yaml")
            #expect(contract.raw.body == document)
            let echoed = try server.request("GET", "/healthz", headers: [("X-Request-Id", "trace-123")])
            #expect(echoed.header("X-Request-Id") == "trace-123")
        }
    }

    @Test func anUnreachableDatabaseIsA503WithRetryAfterNeverACrash() throws {
        // Nothing listens on port 9 (discard) on loopback.
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        try TestServer.run(database: unreachable) { server in
            #expect(try server.request("GET", "/healthz").status == 200, "liveness does not depend on the database")
            let ready = try server.request("GET", "/readyz")
            #expect(ready.status == 503)
            let write = try server.request("PUT", "/v1/prospects/by-external-id/x", json: #"{"clubId": "c", "lastName": "L"}"#,
                                           auth: APICredentials(username: "acme.x", password: "p"))
            #expect(write.status == 503, "\(write)")
            #expect(write.header("Retry-After") == "2")
            #expect(write.header("Content-Type") == "application/problem+json")
            #expect(write.string("type") == "urn:connector-receiver:problem:database-unavailable")
        }
    }
}
