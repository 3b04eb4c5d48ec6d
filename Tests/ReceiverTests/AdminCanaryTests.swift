import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// A password is shown once, in the response that issues it, and nowhere else:
/// not in a log line, not in another response, not in the database in clear.
@Suite struct AdminCanaryTests {
    @Test func issuedPasswordsAppearOnlyInTheirIssuingResponse() throws {
        let capture = LogCapture()
        try TestServer.run(adminToken: TestServer.adminToken, logger: capture.logger(), accessLog: true) { server in
            var responses: [(label: String, text: String)] = []
            func keep(_ label: String, _ response: APIResponse) {
                let headers = response.raw.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                responses.append((label, headers + "\n" + response.body))
            }

            // Turn-up: the issuing response of the first canary.
            let (turnUp, first) = try server.adminTurnUp("acme")
            let issuing = [turnUp.body]

            // Everything an admin or the Connector does with it afterwards.
            keep("v1 list", try server.request("GET", "/v1/lead-sources", auth: first))
            keep("v1 create", try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: first))
            keep("v1 rejected", try server.request("POST", "/v1/lead-sources", json: #"{"name": 1}"#, auth: first))
            keep("verify", try server.admin("POST", "/clients/acme/verify", json: #"{"password": "\#(first.password)"}"#))
            keep("get", try server.admin("GET", "/clients/acme"))
            keep("list", try server.admin("GET", "/clients"))
            keep("patch", try server.admin("PATCH", "/clients/acme", json: #"{"name": "Acme Renamed"}"#))
            keep("club", try server.admin("PUT", "/clients/acme/clubs/club-3", json: #"{"name": "Third", "enabled": false}"#))
            keep("staff", try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"clubIds": ["club-3"]}"#))

            // Rotation issues the second canary.
            let rotation = try server.admin("POST", "/clients/acme/credentials")
            let second = APICredentials(username: try #require(rotation.string("username")), password: try #require(rotation.string("password")))
            keep("old password", try server.request("GET", "/v1/lead-sources", auth: first))
            keep("new password", try server.request("GET", "/v1/lead-sources", auth: second))
            keep("verify old", try server.admin("POST", "/clients/acme/verify", json: #"{"password": "\#(first.password)"}"#))
            keep("verify new", try server.admin("POST", "/clients/acme/verify", json: #"{"password": "\#(second.password)"}"#))
            keep("audit", try server.admin("GET", "/clients/acme/audit"))
            keep("sync errors", try server.admin("GET", "/clients/acme/sync-errors"))
            keep("get after", try server.admin("GET", "/clients/acme"))
            #expect(issuing[0].contains(first.password), "the issuing response shows the password")
            #expect(rotation.body.contains(second.password))

            // Every table's every row, as JSON text.
            let tables = try server.pool.withConnection { connection in
                try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                    .map { try $0.decode(0, as: String.self) }
            }
            #expect(tables.contains("credentials") && tables.contains("audit_events"))
            var rows: [(table: String, text: String)] = []
            try server.pool.withConnection { connection in
                for table in tables {
                    for row in try connection.query("SELECT row_to_json(t)::text FROM \(identifier: table) t") {
                        rows.append((table, try row.decode(0, as: String.self)))
                    }
                }
            }
            #expect(rows.contains { $0.table == "credentials" && $0.text.contains(first.username) })

            let logLines = capture.all
            #expect(logLines.contains { $0.contains("/v1/lead-sources") }, "the access log was captured")
            #expect(logLines.contains { $0.contains("credentials.rotate") }, "admin changes are logged")

            for credentials in [first, second] {
                let basicHeader = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
                for secret in [credentials.password, basicHeader] {
                    for line in logLines where line.contains(secret) {
                        Issue.record("a log line shows a password: \(line)")
                    }
                    for (label, text) in responses where text.contains(secret) {
                        Issue.record("the \(label) response shows a password")
                    }
                    for (table, text) in rows where text.contains(secret) {
                        Issue.record("table \(table) holds a password in clear: \(text)")
                    }
                }
            }
            #expect(!rotation.body.contains(first.password))
        }
    }
}
