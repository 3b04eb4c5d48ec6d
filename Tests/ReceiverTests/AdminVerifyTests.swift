#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// `POST /admin/v1/clients/{clientId}/verify` against the live test server.
@Suite struct AdminVerifyTests {
    private func steps(_ response: APIResponse) -> [JSONObject] {
        guard case .array(let steps)? = response["steps"] else { return [] }
        return steps.compactMap(\.objectValue)
    }

    @Test func passesEveryStepWithTheRightPassword() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            let verified = try server.admin("POST", "/clients/acme/verify", json: #"{"password": "\#(credentials.password)"}"#)
            #expect(verified.status == 200, "\(verified)")
            let steps = steps(verified)
            #expect(steps.map { $0["name"] } == [.string("healthz"), .string("unauthenticated"), .string("authenticated")])
            #expect(steps.map { $0["ok"] } == [.bool(true), .bool(true), .bool(true)], "\(verified)")
            #expect(steps.map { $0["status"] } == [.number(200), .number(401), .number(200)])
            for step in steps {
                guard case .number(let latency)? = step["latencyMs"] else { Issue.record("no latency"); continue }
                #expect(latency >= 0)
                #expect(step["detail"]?.stringValue?.isEmpty == false)
            }
            #expect(!verified.body.contains(credentials.password))
        }
    }

    @Test func aWrongPasswordFailsTheAuthenticatedStep() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let verified = try server.admin("POST", "/clients/acme/verify", json: #"{"password": "not-the-password-at-all"}"#)
            #expect(verified.status == 200, "a failed step is still a 200")
            let steps = steps(verified)
            #expect(steps.map { $0["ok"] } == [.bool(true), .bool(true), .bool(false)])
            #expect(steps.last?["status"] == .number(401))
            #expect(steps.last?["detail"]?.stringValue?.contains("password") == true)
            #expect(!verified.body.contains("not-the-password-at-all"))
        }
    }

    @Test func withoutAPasswordOnlyTwoStepsRun() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let noBody = try server.admin("POST", "/clients/acme/verify", contentType: nil)
            #expect(noBody.status == 200, "\(noBody)")
            #expect(steps(noBody).map { $0["name"] } == [.string("healthz"), .string("unauthenticated")])
            #expect(steps(noBody).map { $0["ok"] } == [.bool(true), .bool(true)])
            let nullPassword = try server.admin("POST", "/clients/acme/verify", json: #"{"password": null}"#)
            #expect(steps(nullPassword).count == 2)
        }
    }

    @Test func aSuspendedClientFailsTheAuthenticatedStep() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            _ = try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#)
            let verified = try server.admin("POST", "/clients/acme/verify", json: #"{"password": "\#(credentials.password)"}"#)
            #expect(steps(verified).last?["status"] == .number(403))
            #expect(steps(verified).last?["ok"] == .bool(false))
            #expect(steps(verified).last?["detail"]?.stringValue?.contains("suspended") == true)
        }
    }

    @Test func anUnreachableConnectionFailsFastWithAClearDetail() throws {
        let closedPort = try freePort()
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme", extra: #", "connection": {"scheme": "http", "host": "127.0.0.1", "port": \#(closedPort)}"#)
            let start = ContinuousClock.now
            let verified = try server.admin("POST", "/clients/acme/verify", json: #"{"password": "whatever-it-is"}"#)
            let elapsed = ContinuousClock.now - start
            #expect(verified.status == 200, "\(verified)")
            #expect(elapsed < .seconds(3), "a refused connection is reported at once, not after the timeouts")
            let steps = steps(verified)
            #expect(steps.count == 3)
            #expect(steps.allSatisfy { $0["ok"] == .bool(false) && $0["status"] == .null })
            let detail = try #require(steps.first?["detail"]?.stringValue)
            #expect(detail.contains("127.0.0.1:\(closedPort)"), "\(detail)")
            #expect(detail.contains("no response"), "\(detail)")
        }
    }

    @Test func rejectsMalformedBodiesAndUnknownClients() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            #expect(try server.admin("POST", "/clients/acme/verify", json: #"{"password": 12}"#).errorFields == ["password"])
            #expect(try server.admin("POST", "/clients/acme/verify", json: #"{"password": "x"}"#, contentType: "text/plain").status == 415)
            #expect(try server.admin("POST", "/clients/nobody/verify").status == 404)
        }
    }
}
