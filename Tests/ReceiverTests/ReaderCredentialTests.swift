import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Reader credentials through `/admin/v1/clients/{clientId}/reader-credentials`,
/// and what they may do on `/v1`, over HTTP on a fresh database.
@Suite struct ReaderCredentialTests {
    static let prospect = #"{"clubId": "club-1", "externalId": "p-1", "firstName": "Zoë", "lastName": "Ng", "email": "zoe@example.com"}"#
    static let member = #"{"clubId": "club-1", "externalId": "m-1", "firstName": "Kai", "lastName": "Lee", "memberNumber": "A1"}"#

    @Test func anIssuedReaderReadsEverythingUnderV1AndWritesNothing() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let prospect = try server.request("POST", "/v1/prospects", json: Self.prospect, auth: connector)
            let member = try server.request("POST", "/v1/members", json: Self.member, auth: connector)
            let leadSource = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web Form"}"#, auth: connector)
            #expect(try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"firstName": "Kim", "clubIds": ["club-1"]}"#).status == 201)
            let prospectId = try #require(prospect.string("id"), "\(prospect)")
            let memberId = try #require(member.string("id"), "\(member)")
            let leadSourceId = try #require(leadSource.string("id"), "\(leadSource)")

            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "  Club CRM  "}"#)
            #expect(issued.status == 201, "\(issued)")
            #expect(issued.header("Cache-Control") == "no-store")
            let id = try #require(issued.string("id"))
            #expect(issued.header("Location") == "/admin/v1/clients/acme/reader-credentials/\(id)")
            #expect(Set(issued.json?.objectValue?.members.map(\.name) ?? []) == ["id", "label", "username", "password", "createdAt"])
            #expect(issued.string("label") == "Club CRM", "trimmed")
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            #expect(reader.username.hasPrefix("acme."))
            #expect(reader.username != connector.username)
            #expect(reader.password.count >= 32)
            #expect(Timestamp.parse(try #require(issued.string("createdAt"))) != nil)

            for path in ["/v1/prospects", "/v1/prospects/\(prospectId)", "/v1/prospects?externalId=p-1",
                         "/v1/members", "/v1/members/\(memberId)", "/v1/staff", "/v1/lead-sources", "/v1/lead-sources/\(leadSourceId)"] {
                let read = try server.request("GET", path, auth: reader)
                let asConnector = try server.request("GET", path, auth: connector)
                #expect(read.status == 200, "GET \(path): \(read)")
                #expect(asConnector.status == 200, "GET \(path): \(asConnector)")
                #expect(read.body == asConnector.body, "GET \(path) reads what the Connector reads")
            }
            #expect(try server.request("GET", "/v1/prospects", auth: reader).items.count == 1)
            #expect(try server.request("GET", "/v1/staff", auth: reader).items.count == 1)

            let writes: [(String, String, String?)] = [
                ("POST", "/v1/prospects", #"{"clubId": "club-1", "lastName": "New"}"#),
                ("PATCH", "/v1/prospects/\(prospectId)", #"{"notes": "changed"}"#),
                ("PUT", "/v1/prospects/by-external-id/p-1", #"{"clubId": "club-1", "lastName": "Changed"}"#),
                ("PUT", "/v1/prospects/by-external-id/p-2", #"{"clubId": "club-1", "lastName": "New"}"#),
                ("POST", "/v1/prospects/\(prospectId)/convert", #"{"externalId": "m-2", "memberNumber": "B2"}"#),
                ("POST", "/v1/members", #"{"clubId": "club-1", "lastName": "New"}"#),
                ("PATCH", "/v1/members/\(memberId)", #"{"notes": "changed"}"#),
                ("PUT", "/v1/members/by-external-id/m-1", #"{"clubId": "club-1", "lastName": "Changed"}"#),
                ("POST", "/v1/lead-sources", #"{"name": "Walk-in"}"#),
                ("PATCH", "/v1/lead-sources/\(leadSourceId)", #"{"name": "Changed"}"#),
                ("DELETE", "/v1/lead-sources/\(leadSourceId)", nil),
            ]
            for (method, path, body) in writes {
                let refused = try server.request(method, path, json: body, headers: [("Idempotency-Key", UUID().uuidString)], auth: reader)
                #expect(refused.status == 403, "\(method) \(path): \(refused)")
                #expect(refused.string("type") == "urn:connector-receiver:problem:read-only-credential", "\(method) \(path)")
            }

            // Nothing was written, and a refused write is no sync error of the Connector's.
            let counts = try server.pool.withConnection { connection in
                try connection.query("""
                    SELECT (SELECT count(*) FROM prospects WHERE client_id = 'acme') AS prospects,
                           (SELECT max(version) FROM prospects WHERE client_id = 'acme') AS prospect_version,
                           (SELECT count(*) FROM members WHERE client_id = 'acme') AS members,
                           (SELECT max(version) FROM members WHERE client_id = 'acme') AS member_version,
                           (SELECT count(*) FROM lead_sources WHERE client_id = 'acme') AS lead_sources,
                           (SELECT max(version) FROM lead_sources WHERE client_id = 'acme') AS lead_source_version,
                           (SELECT count(*) FROM sync_errors WHERE client_id = 'acme') AS sync_errors
                    """)[0]
            }
            #expect(try counts.decode("prospects", as: Int.self) == 1)
            #expect(try counts.decode("prospect_version", as: Int.self) == 1)
            #expect(try counts.decode("members", as: Int.self) == 1)
            #expect(try counts.decode("member_version", as: Int.self) == 1)
            #expect(try counts.decode("lead_sources", as: Int.self) == 1)
            #expect(try counts.decode("lead_source_version", as: Int.self) == 1)
            #expect(try counts.decode("sync_errors", as: Int.self) == 0)
            #expect(try server.request("GET", "/v1/lead-sources/\(leadSourceId)", auth: connector).status == 200, "not deleted")
        }
    }

    @Test func theListShowsLastUsedAtAfterUseAndNeverASecret() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let first = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Club CRM"}"#)
            let second = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Reporting"}"#)
            let firstId = try #require(first.string("id")), secondId = try #require(second.string("id"))
            let passwords = [first, second].compactMap { $0.string("password") }
            #expect(passwords.count == 2)

            let unused = try server.admin("GET", "/clients/acme/reader-credentials")
            #expect(unused.status == 200, "\(unused)")
            #expect(unused.header("Cache-Control") == "no-store")
            #expect(unused.itemValues("id") == [.string(firstId), .string(secondId)], "oldest first")
            #expect(unused.itemValues("label") == [.string("Club CRM"), .string("Reporting")])
            #expect(unused.itemValues("username") == [first["username"], second["username"]].compactMap { $0 })
            #expect(unused.itemValues("createdAt") == [first["createdAt"], second["createdAt"]].compactMap { $0 })
            #expect(unused.itemValues("lastUsedAt") == [.null, .null])
            #expect(unused["nextCursor"] == .null)

            let before = Date()
            let reader = APICredentials(username: try #require(first.string("username")), password: passwords[0])
            #expect(try server.request("GET", "/v1/lead-sources", auth: reader).status == 200)
            #expect(try server.request("GET", "/v1/lead-sources", auth: connector).status == 200, "the Connector's use is no reader's")
            #expect(try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: try #require(second.string("username")), password: "wrong")).status == 401,
                    "a refused password is no use")

            let used = try server.admin("GET", "/clients/acme/reader-credentials")
            let lastUsedAt = try #require(used.value("items.0.lastUsedAt")?.stringValue.flatMap(Timestamp.parse), "\(used)")
            #expect(lastUsedAt.timeIntervalSince(before) > -1 && lastUsedAt.timeIntervalSinceNow < 1)
            #expect(used.value("items.1.lastUsedAt") == .null)
            let one = try server.admin("GET", "/clients/acme/reader-credentials/\(firstId)")
            #expect(one.status == 200)
            #expect(one.header("Cache-Control") == "no-store")
            #expect(one.json == used.items.first)

            let page = try server.admin("GET", "/clients/acme/reader-credentials?limit=1")
            #expect(page.itemValues("id") == [.string(firstId)])
            let rest = try server.admin("GET", "/clients/acme/reader-credentials?limit=1&cursor=\(try #require(page.string("nextCursor")))")
            #expect(rest.itemValues("id") == [.string(secondId)])
            #expect(rest["nextCursor"] == .null)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials?cursor=garbage").status == 400)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials?limit=501").status == 400)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials?cursor=\(Page.encode(["not-a-uuid"]))").status == 400)

            for response in [unused, used, one, page, rest, try server.admin("GET", "/clients/acme"), try server.admin("GET", "/clients/acme/audit")] {
                for password in passwords { #expect(!response.body.contains(password)) }
                #expect(!response.body.contains("password"))
                #expect(!response.body.contains("b2$"))
                #expect(!response.body.lowercased().contains("hash"))
            }
            let stored = try server.pool.withConnection { connection in
                try connection.query("SELECT password_hash FROM credentials WHERE role = 'reader'").map { try $0.decode(0, as: String.self) }
            }
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { $0.hasPrefix("b2$") }, "keyed hashes like the Connector's")
            #expect(zip(stored, passwords).allSatisfy { !$0.contains($1) } && CredentialSecrets.verify(password: passwords[0], against: stored[0]))
        }
    }

    @Test func aBusyReaderWritesItsUseOncePerIntervalNotOnEveryRead() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Poller"}"#)
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            func lastUsed() throws -> Date? {
                try server.pool.withConnection { connection in
                    try connection.query("SELECT last_used_at FROM credentials WHERE role = 'reader'")[0].decode(0, as: Date?.self)
                }
            }
            #expect(try server.request("GET", "/v1/lead-sources", auth: reader).status == 200)
            #expect(try lastUsed() != nil)
            try server.pool.withConnection { _ = try $0.execute("UPDATE credentials SET last_used_at = NULL WHERE role = 'reader'") }
            for _ in 0..<5 {
                #expect(try server.request("GET", "/v1/lead-sources", auth: reader).status == 200)
            }
            #expect(try lastUsed() == nil, "within a minute of the last write this process writes no more")
        }
    }

    @Test func theUseIsWrittenAgainAfterTheIntervalAndAFailedWriteIsRetried() throws {
        try TestDatabase.withMigratedDatabase { configuration in
            let connection = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            defer { connection.close() }
            try ClientStore.turnUp(TurnUpRequest(clientId: "acme", name: "Acme", clubs: [("club-1", "Downtown", true)],
                connection: ["scheme": .string("http"), "host": .string("127.0.0.1"), "port": .number(8080)]), on: connection)
            let reader = try ReaderCredentials.issue(clientId: "acme", label: "Poller", by: .system, on: connection).reader
            func lastUsed() throws -> Date? {
                try connection.query("SELECT last_used_at FROM credentials WHERE id = \(reader.id)")[0].decode(0, as: Date?.self)
            }
            func clear() throws { try connection.execute("UPDATE credentials SET last_used_at = NULL WHERE id = \(reader.id)") }

            let recorder = ReaderUseRecorder(interval: .milliseconds(400))
            recorder.recordUse(readerId: reader.id, clientId: "acme", on: connection, logger: TestDatabase.logger)
            #expect(try lastUsed() != nil)
            try clear()
            recorder.recordUse(readerId: reader.id, clientId: "acme", on: connection, logger: TestDatabase.logger)
            #expect(try lastUsed() == nil, "throttled")
            Thread.sleep(forTimeInterval: 0.45)
            recorder.recordUse(readerId: reader.id, clientId: "acme", on: connection, logger: TestDatabase.logger)
            #expect(try lastUsed() != nil, "written again once the interval has passed")

            // A write that fails (here: inside an aborted transaction) throws
            // nothing, and is not counted: the next use writes at once.
            try clear()
            Thread.sleep(forTimeInterval: 0.45)
            try connection.execute("BEGIN")
            #expect(throws: PostgresError.self) { try connection.execute("SELECT 1 / 0") }
            recorder.recordUse(readerId: reader.id, clientId: "acme", on: connection, logger: TestDatabase.logger)
            try connection.execute("ROLLBACK")
            #expect(try lastUsed() == nil)
            recorder.recordUse(readerId: reader.id, clientId: "acme", on: connection, logger: TestDatabase.logger)
            #expect(try lastUsed() != nil, "the failed write was retried on the next use")
        }
    }

    @Test func revokeCutsTheReaderOffAtOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("beta")
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Club CRM"}"#)
            let kept = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Reporting"}"#)
            let betas = try server.admin("POST", "/clients/beta/reader-credentials", json: #"{"label": "Beta CRM"}"#)
            let id = try #require(issued.string("id")), betaId = try #require(betas.string("id"))
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            let other = APICredentials(username: try #require(kept.string("username")), password: try #require(kept.string("password")))
            #expect(try server.request("GET", "/v1/prospects", auth: reader).status == 200)

            #expect(try server.admin("DELETE", "/clients/beta/reader-credentials/\(id)").status == 404, "another client's id")
            #expect(try server.admin("DELETE", "/clients/acme/reader-credentials/\(betaId)").status == 404, "another client's id")
            #expect(try server.request("GET", "/v1/prospects", auth: reader).status == 200)

            let revoked = try server.admin("DELETE", "/clients/acme/reader-credentials/\(id)")
            #expect(revoked.status == 204, "\(revoked)")
            #expect(revoked.body.isEmpty)
            let refused = try server.request("GET", "/v1/prospects", auth: reader)
            #expect(refused.status == 401, "\(refused)")
            #expect(refused.header("WWW-Authenticate") == #"Basic realm="connector-receiver""#)
            #expect(try server.request("GET", "/v1/prospects", auth: other).status == 200, "the other reader still works")

            let list = try server.admin("GET", "/clients/acme/reader-credentials")
            #expect(list.itemValues("label") == [.string("Reporting")])
            let again = try server.admin("DELETE", "/clients/acme/reader-credentials/\(id)")
            #expect(again.status == 404)
            #expect(again.string("detail")?.contains(id) == true)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials/\(id)").status == 404)
            #expect(try server.admin("DELETE", "/clients/acme/reader-credentials/not-a-uuid").status == 404)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials/not-a-uuid").status == 404)
            let unknownClient = try server.admin("DELETE", "/clients/nobody/reader-credentials/\(id)")
            #expect(unknownClient.status == 404)
            #expect(unknownClient.string("detail") == "No client nobody.")
            #expect(try server.admin("DELETE", "/clients/nobody/reader-credentials/not-a-uuid").string("detail") == "No client nobody.")
        }
    }

    @Test func anotherClientsReaderCannotReadThisClientsRecords() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("beta")
            let prospectId = try #require(try server.request("POST", "/v1/prospects", json: Self.prospect, auth: acme).string("id"))
            let issued = try server.admin("POST", "/clients/beta/reader-credentials", json: #"{"label": "Beta CRM"}"#)
            let beta = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))

            #expect(try server.request("GET", "/v1/prospects/\(prospectId)", auth: beta).status == 404, "indistinguishable from a missing record")
            #expect(try server.request("GET", "/v1/prospects?externalId=p-1", auth: beta).items.isEmpty)
            #expect(try server.request("GET", "/v1/prospects", auth: beta).items.isEmpty)
            #expect(try server.request("GET", "/v1/prospects?externalId=p-1", auth: acme).items.count == 1)

            // The username decides the client: beta's secret under acme's name is no credential.
            let random = try #require(beta.username.split(separator: ".").last)
            #expect(try server.request("GET", "/v1/prospects", auth: APICredentials(username: "acme.\(random)", password: beta.password)).status == 401)
            #expect(try server.request("GET", "/v1/prospects", auth: APICredentials(username: acme.username, password: beta.password)).status == 401)
        }
    }

    @Test func rotatingTheConnectorCredentialLeavesReadersWorking() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Club CRM"}"#)
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            let client = try server.admin("GET", "/clients/acme")
            #expect(client.string("username") == connector.username, "a reader is not the client's credential")
            #expect(client["version"] == .number(1), "issuing a reader changes nothing of the client")

            let rotated = try server.admin("POST", "/clients/acme/credentials")
            #expect(rotated.status == 201)
            #expect(try server.request("GET", "/v1/lead-sources", auth: connector).status == 401)
            #expect(try server.request("GET", "/v1/lead-sources", auth: reader).status == 200)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials").items.count == 1)
            #expect(try server.admin("GET", "/clients/acme").string("username") == rotated.string("username"))
        }
    }

    @Test func aSuspendedClientsReadersAre403UntilResumed() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Club CRM"}"#)
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            _ = try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#)
            let refused = try server.request("GET", "/v1/lead-sources", auth: reader)
            #expect(refused.status == 403)
            #expect(refused.string("type") == "urn:connector-receiver:problem:client-suspended")
            _ = try server.admin("PATCH", "/clients/acme", json: #"{"status": "active"}"#)
            #expect(try server.request("GET", "/v1/lead-sources", auth: reader).status == 200)
        }
    }

    @Test func issuingAndRevokingAreAuditedWithoutThePassword() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "Club CRM"}"#, headers: [("X-Request-Id", "reader-1")])
            let id = try #require(issued.string("id")), username = try #require(issued.string("username"))
            #expect(try server.admin("DELETE", "/clients/acme/reader-credentials/\(id)", headers: [("X-Request-Id", "revoke-1")]).status == 204)
            #expect(try server.admin("DELETE", "/clients/acme/reader-credentials/\(id)").status == 404)

            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.itemValues("action") == [.string("client.create"), .string("reader.create"), .string("reader.revoke")], "a failed revoke records nothing")
            let expected: JSONValue = .object(["id": .string(id), "label": .string("Club CRM"), "username": .string(username)])
            #expect(audit.value("items.1.changes") == expected)
            #expect(audit.value("items.1.actor") == .string("admin-token"))
            #expect(audit.value("items.1.requestId") == .string("reader-1"))
            #expect(audit.value("items.2.changes") == expected)
            #expect(audit.value("items.2.requestId") == .string("revoke-1"))
            #expect(!audit.body.contains(try #require(issued.string("password"))))
        }
    }

    @Test func theLabelIsRequiredAndAtMost200Characters() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            for body in [#"{}"#, #"{"label": null}"#, #"{"label": "   "}"#, #"{"label": 7}"#,
                         #"{"label": "\#(String(repeating: "x", count: 201))"}"#, #"{"label": "a\u0007b"}"#] {
                let bad = try server.admin("POST", "/clients/acme/reader-credentials", json: body)
                #expect(bad.status == 422, "\(body): \(bad)")
                #expect(bad.errorFields == ["label"], "\(body)")
                #expect(bad["password"] == nil)
            }
            #expect(try server.admin("POST", "/clients/acme/reader-credentials", json: "{").status == 400)
            #expect(try server.admin("POST", "/clients/acme/reader-credentials", json: "[]").status == 400)
            #expect(try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "X"}"#, contentType: "text/plain").status == 415)
            #expect(try server.admin("GET", "/clients/acme/reader-credentials").items.isEmpty, "nothing was issued")

            let longest = String(repeating: "é", count: 200)
            let accepted = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "\#(longest)"}"#)
            #expect(accepted.status == 201, "200 code points are allowed")
            #expect(accepted.string("label") == longest)

            let unknown = try server.admin("POST", "/clients/nobody/reader-credentials", json: #"{"label": "Club CRM"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.string("detail") == "No client nobody.")
            #expect(try server.admin("GET", "/clients/nobody/reader-credentials").status == 404)
            let count = try server.pool.withConnection { connection in
                try connection.query("SELECT count(*) FROM credentials WHERE role = 'reader'")[0].decode(0, as: Int.self)
            }
            #expect(count == 1)
        }
    }

    @Test func withoutTheAdminTokenReaderCredentialsAreOffOrRefused() throws {
        try TestServer.run { server in
            for (method, path) in [("POST", "/clients/acme/reader-credentials"), ("GET", "/clients/acme/reader-credentials"),
                                   ("GET", "/clients/acme/reader-credentials/\(RecordID.make().lowercasedString)"),
                                   ("DELETE", "/clients/acme/reader-credentials/\(RecordID.make().lowercasedString)")] {
                let off = try server.admin(method, path, json: method == "POST" ? #"{"label": "X"}"# : nil)
                #expect(off.status == 404, "\(method) \(path): \(off)")
                #expect(off.string("type") == "urn:connector-receiver:problem:admin-api-off")
            }
        }
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            for token in [nil, "wrong-token-0123456789"] {
                #expect(try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "X"}"#, token: token).status == 401)
                #expect(try server.admin("GET", "/clients/acme/reader-credentials", token: token).status == 401)
            }
            #expect(try server.admin("GET", "/clients/acme/reader-credentials").items.isEmpty)
        }
    }
}
