import Foundation
import Synchronization
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Turn-up, reading, changing, clubs and credentials through `/admin/v1`, over HTTP.
@Suite struct AdminClientTests {
    static let acme = #"""
        {"clientId": "acme", "name": "Acme Fitness",
         "clubs": [{"clubId": "club-002", "name": "Uptown"}, {"clubId": "club-001", "name": "Downtown", "enabled": true}],
         "connection": {"scheme": "https", "host": "receiver.example.com", "port": 443},
         "options": {"smartMatch": false}}
        """#

    @Test func turnUpAnswersTheClientItsCredentialsAndTheSheet() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let created = try server.admin("POST", "/clients", json: Self.acme)
            #expect(created.status == 201, "\(created)")
            #expect(created.header("Location") == "/admin/v1/clients/acme")
            #expect(created.header("Cache-Control") == "no-store")
            #expect(created.value("client.clientId") == .string("acme"))
            #expect(created.value("client.name") == .string("Acme Fitness"))
            #expect(created.value("client.status") == .string("active"))
            #expect(created.value("client.version") == .number(1))
            #expect(created.value("client.options.smartMatch") == .bool(false))
            #expect(created.value("client.connection.host") == .string("receiver.example.com"))
            #expect(created.value("client.clubs.0.clubId") == .string("club-001"), "clubs are ordered by clubId")
            #expect(created.value("client.clubs.1.enabled") == .bool(true))

            let username = try #require(created.value("credentials.username")?.stringValue)
            let password = try #require(created.value("credentials.password")?.stringValue)
            #expect(username.hasPrefix("acme."))
            #expect(password.count >= 32 && password.utf8.allSatisfy { (0x21...0x7E).contains($0) })
            #expect(created.value("client.username") == .string(username))

            #expect(created.value("turnUpSheet.clientId") == .string("acme"))
            #expect(created.value("turnUpSheet.clubIds") == .array([.string("club-001"), .string("club-002")]))
            #expect(created.value("turnUpSheet.baseUrl") == .string("https://receiver.example.com"))
            #expect(created.value("turnUpSheet.username") == .string(username))

            // The credential works on /v1 at once.
            let auth = APICredentials(username: username, password: password)
            #expect(try server.request("GET", "/v1/lead-sources", auth: auth).status == 200)
        }
    }

    @Test func withoutAConnectionTheServersPublicURLIsUsed() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (created, _) = try server.adminTurnUp("acme")
            #expect(created.value("client.connection") == .object(["scheme": .string("http"), "host": .string("127.0.0.1"), "port": .number(Double(server.port))]))
            #expect(created.value("turnUpSheet.baseUrl") == .string("http://127.0.0.1:\(server.port)"))
            #expect(created.value("client.options") == .object(["smartMatch": .bool(true)]), "every option with its default")

            let ipv6 = try server.admin("POST", "/clients", json: #"""
                {"clientId": "v6", "name": "V6", "clubs": [{"clubId": "c", "name": "C"}], "connection": {"scheme": "https", "host": "2001:db8::7", "port": 8443}}
                """#)
            #expect(ipv6.value("turnUpSheet.baseUrl") == .string("https://[2001:db8::7]:8443"), "\(ipv6)")
        }
    }

    @Test func aUsedClientIdIs409() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let again = try server.admin("POST", "/clients", json: Self.acme)
            #expect(again.status == 409, "\(again)")
            #expect(again.string("detail")?.contains("acme") == true)
            #expect(again["credentials"] == nil)
        }
    }

    @Test func concurrentTurnUpsOfOneClientIdCreateItOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let statuses = Mutex<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                let status = (try? server.admin("POST", "/clients", json: Self.acme).status) ?? 0
                statuses.withLock { $0.append(status) }
            }
            #expect(statuses.withLock { $0.sorted() } == [201, 409, 409, 409, 409, 409])
            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.items.count == 1)
            let credentials = try server.pool.withConnection { connection in
                try connection.query("SELECT count(*) FROM credentials WHERE client_id = 'acme'").first?.decode(0, as: Int.self)
            }
            #expect(credentials == 1)
        }
    }

    @Test func turnUpValidatesEveryField() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let bad = try server.admin("POST", "/clients", json: #"""
                {"clientId": "-acme", "name": "  ",
                 "clubs": [{"clubId": "club-1", "name": "A"}, {"clubId": "club-1", "name": "B"}, {"clubId": "bad id", "name": "C"}, 7],
                 "connection": {"scheme": "ftp", "host": "exa mple.com", "port": 70000},
                 "options": {"smartMatch": "yes", "colour": "blue"}}
                """#)
            #expect(bad.status == 422, "\(bad)")
            #expect(bad.errorFields == [
                "clientId", "name", "clubs[1].clubId", "clubs[2].clubId", "clubs[3]",
                "connection.scheme", "connection.host", "connection.port", "options.smartMatch", "options.colour",
            ])
            let missing = try server.admin("POST", "/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": []}"#)
            #expect(missing.errorFields == ["clubs"])
            let partialConnection = try server.admin("POST", "/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "c", "name": "C"}], "connection": {"host": "x.example"}}"#)
            #expect(partialConnection.errorFields == ["connection.scheme", "connection.port"])
            #expect(try server.admin("POST", "/clients", json: "[]").status == 400)
            #expect(try server.admin("POST", "/clients", json: "{", contentType: "application/json").status == 400)
            #expect(try server.admin("POST", "/clients", json: Self.acme, contentType: "text/plain").status == 415)
            #expect(try server.admin("GET", "/clients/acme").status == 404, "nothing was created")
        }
    }

    @Test func anUnknownOptionIs422NamingIt() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let unknown = try server.admin("POST", "/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "c", "name": "C"}], "options": {"smartMach": true}}"#)
            #expect(unknown.status == 422)
            #expect(unknown.errorFields == ["options.smartMach"])
            #expect(unknown.body.contains("smartMatch"), "the message lists the known options")
            let reset = try server.admin("POST", "/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "c", "name": "C"}], "options": {"smartMatch": null}}"#)
            #expect(reset.value("client.options.smartMatch") == .bool(true), "null takes the default")
        }
    }

    @Test func readsNeverShowAPasswordOrHash() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("beta")
            _ = try server.adminTurnUp("Zeta")

            let one = try server.admin("GET", "/clients/acme")
            #expect(one.status == 200)
            #expect(one.header("ETag") == "\"1\"")
            #expect(one.string("username") == credentials.username)
            let list = try server.admin("GET", "/clients")
            #expect(list.itemValues("clientId") == [.string("Zeta"), .string("acme"), .string("beta")], "byte order")
            #expect(list["nextCursor"] == .null)
            for response in [one, list] {
                #expect(!response.body.contains(credentials.password))
                #expect(!response.body.contains("password"))
                #expect(!response.body.contains("b2$"))
                #expect(!response.body.lowercased().contains("hash"))
            }

            let first = try server.admin("GET", "/clients?limit=2")
            #expect(first.itemValues("clientId") == [.string("Zeta"), .string("acme")])
            let cursor = try #require(first.string("nextCursor"))
            let second = try server.admin("GET", "/clients?limit=2&cursor=\(cursor)")
            #expect(second.itemValues("clientId") == [.string("beta")])
            #expect(second["nextCursor"] == .null)
            #expect(try server.admin("GET", "/clients?limit=0").status == 400)
            #expect(try server.admin("GET", "/clients?limit=501").status == 400)
            #expect(try server.admin("GET", "/clients?cursor=garbage").status == 400)
            #expect(try server.admin("GET", "/clients/nobody").status == 404)
        }
    }

    @Test func patchChangesNameConnectionOptionsAndStatus() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.admin("POST", "/clients", json: Self.acme)
            let renamed = try server.admin("PATCH", "/clients/acme", json: #"{"name": "Acme Fitness Group", "connection": {"port": 8443}, "options": {"smartMatch": true}}"#,
                                           contentType: "application/merge-patch+json")
            #expect(renamed.status == 200, "\(renamed)")
            #expect(renamed.string("name") == "Acme Fitness Group")
            #expect(renamed.value("connection") == .object(["scheme": .string("https"), "host": .string("receiver.example.com"), "port": .number(8443)]))
            #expect(renamed.value("options.smartMatch") == .bool(true))
            #expect(renamed["version"] == .number(2))
            #expect(renamed.header("ETag") == "\"2\"")

            let same = try server.admin("PATCH", "/clients/acme", json: #"{"name": "Acme Fitness Group"}"#)
            #expect(same["version"] == .number(2), "a patch that changes nothing keeps the version")
            let stale = try server.admin("PATCH", "/clients/acme", json: #"{"name": "X"}"#, headers: [("If-Match", "\"1\"")])
            #expect(stale.status == 412)
            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"name": "Y"}"#, headers: [("If-Match", "\"2\"")]).status == 200)

            let bad = try server.admin("PATCH", "/clients/acme", json: #"{"name": null, "connection": {"host": null}, "options": {"unknown": 1}, "status": "gone"}"#)
            #expect(bad.status == 422)
            #expect(bad.errorFields == ["name", "connection.host", "options.unknown", "status"])
            let nullOptions = try server.admin("PATCH", "/clients/acme", json: #"{"options": null}"#)
            #expect(nullOptions.errorFields == ["options"])
            #expect(try server.admin("PATCH", "/clients/nobody", json: #"{"name": "X"}"#).status == 404)
            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"name": "X"}"#, contentType: "text/plain").status == 415)
        }
    }

    @Test func aSuspendedClientIs403OnV1UntilResumed() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            #expect(try server.request("GET", "/v1/lead-sources", auth: credentials).status == 200)

            let suspended = try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#)
            #expect(suspended.string("status") == "suspended")
            let refused = try server.request("GET", "/v1/lead-sources", auth: credentials)
            #expect(refused.status == 403, "\(refused)")
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: credentials).status == 403)
            #expect(try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: credentials.username, password: "wrong")).status == 401,
                    "a wrong password is still 401, not a hint that the client exists")

            let resumed = try server.admin("PATCH", "/clients/acme", json: #"{"status": "active"}"#)
            #expect(resumed.string("status") == "active")
            #expect(try server.request("GET", "/v1/lead-sources", auth: credentials).status == 200)

            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.itemValues("action") == [.string("client.create"), .string("client.suspend"), .string("client.resume")])
        }
    }

    @Test func clubsAreAddedAndToggled() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let disabled = try server.admin("PUT", "/clients/acme/clubs/club-2", json: #"{"name": "Uptown", "enabled": false}"#)
            #expect(disabled.status == 200, "\(disabled)")
            #expect(disabled["enabled"] == .bool(false))
            #expect(disabled.string("clubId") == "club-2")

            let client = try server.admin("GET", "/clients/acme")
            #expect(client.value("clubs.1.clubId") == .string("club-2"))
            #expect(client.value("clubs.1.enabled") == .bool(false))
            #expect(client.value("clubs.0.enabled") == .bool(true))
            #expect(client["version"] == .number(2), "the client's representation lists its clubs")

            let added = try server.admin("PUT", "/clients/acme/clubs/club-3", json: #"{"name": "Riverside"}"#)
            #expect(added.status == 201, "\(added)")
            #expect(added["enabled"] == .bool(true))
            let again = try server.admin("PUT", "/clients/acme/clubs/club-3", json: #"{"name": "Riverside"}"#)
            #expect(again.status == 200)
            #expect(again.string("updatedAt") == added.string("updatedAt"), "an equal PUT writes nothing")
            #expect(try server.admin("GET", "/clients/acme")["version"] == .number(3))

            let enabled = try server.admin("PUT", "/clients/acme/clubs/club-2", json: #"{"name": "Uptown"}"#)
            #expect(enabled["enabled"] == .bool(true), "enabled defaults to true in the full representation")

            let invalid = try server.admin("PUT", "/clients/acme/clubs/bad%20id", json: #"{"enabled": "no"}"#)
            #expect(invalid.status == 422)
            #expect(invalid.errorFields == ["clubId", "name", "enabled"])
            #expect(try server.admin("PUT", "/clients/nobody/clubs/club-1", json: #"{"name": "X"}"#).status == 404)

            let audit = try server.admin("GET", "/clients/acme/audit")
            let toggle = try #require(audit.items.dropFirst().first?.objectValue)
            #expect(toggle["action"] == .string("club.update"))
            #expect(toggle["changes"] == .object(["clubId": .string("club-2"), "enabled": .object(["from": .bool(true), "to": .bool(false)])]))
        }
    }

    @Test func rotationCutsTheOldPasswordOffAtOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, old) = try server.adminTurnUp("acme")
            #expect(try server.request("GET", "/v1/lead-sources", auth: old).status == 200)

            let rotated = try server.admin("POST", "/clients/acme/credentials")
            #expect(rotated.status == 201, "\(rotated)")
            #expect(rotated.header("Cache-Control") == "no-store")
            let new = APICredentials(username: try #require(rotated.string("username")), password: try #require(rotated.string("password")))
            #expect(new.username != old.username)
            #expect(new.password != old.password)

            #expect(try server.request("GET", "/v1/lead-sources", auth: old).status == 401)
            #expect(try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: new.username, password: old.password)).status == 401)
            #expect(try server.request("GET", "/v1/lead-sources", auth: new).status == 200)

            let client = try server.admin("GET", "/clients/acme")
            #expect(client.string("username") == new.username)
            #expect(client["version"] == .number(2))
            #expect(try server.admin("POST", "/clients/nobody/credentials").status == 404)

            let audit = try server.admin("GET", "/clients/acme/audit")
            let rotation = try #require(audit.items.last?.objectValue)
            #expect(rotation["action"] == .string("credentials.rotate"))
            #expect(rotation["changes"] == .object(["username": .string(new.username)]), "the new username only")
        }
    }

    @Test func theAuditTrailNamesActorActionChangesAndRequest() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let created = try server.admin("POST", "/clients", json: Self.acme, headers: [("X-Request-Id", "turn-up-1")])
            #expect(created.status == 201)
            _ = try server.admin("PATCH", "/clients/acme", json: #"{"name": "Acme 2", "options": {"smartMatch": true}}"#, headers: [("X-Request-Id", "rename-1")])
            _ = try server.admin("PUT", "/clients/acme/clubs/club-001", json: #"{"name": "Downtown", "enabled": false}"#)
            _ = try server.admin("POST", "/clients/acme/credentials")
            _ = try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"firstName": "Kim"}"#)

            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.status == 200)
            #expect(audit.itemValues("action") == ["client.create", "client.update", "club.update", "credentials.rotate", "staff.create"].map(JSONValue.string))
            #expect(audit.itemValues("actor").allSatisfy { $0 == .string("admin-token") })
            #expect(audit.value("items.0.requestId") == .string("turn-up-1"))
            #expect(audit.value("items.0.changes.clubs") == .array([.string("club-001"), .string("club-002")]))
            #expect(audit.value("items.0.changes.name") == .string("Acme Fitness"))
            #expect(audit.value("items.1.requestId") == .string("rename-1"))
            #expect(audit.value("items.1.changes") == .object([
                "name": .object(["from": .string("Acme Fitness"), "to": .string("Acme 2")]),
                "options": .object(["smartMatch": .object(["from": .bool(false), "to": .bool(true)])]),
            ]))
            #expect(!audit.body.contains(try #require(created.value("credentials.password")?.stringValue)))

            let page = try server.admin("GET", "/clients/acme/audit?limit=2")
            #expect(page.items.count == 2)
            let rest = try server.admin("GET", "/clients/acme/audit?cursor=\(try #require(page.string("nextCursor")))")
            #expect(rest.itemValues("action").count == 3)
            #expect(try server.admin("GET", "/clients/nobody/audit").status == 404)
        }
    }

    @Test func openSyncErrorsAreListed() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            let rejected = try server.request("POST", "/v1/lead-sources", json: #"{"externalId": "ls-1"}"#, headers: [("X-Request-Id", "bad-write-1")], auth: credentials)
            #expect(rejected.status == 422)
            _ = try server.request("POST", "/v1/lead-sources", json: #"{"name": 5}"#, auth: credentials)

            let errors = try server.admin("GET", "/clients/acme/sync-errors")
            #expect(errors.status == 200, "\(errors)")
            #expect(errors.items.count == 2)
            #expect(errors.value("items.0.operation") == .string("POST /v1/lead-sources"))
            #expect(errors.value("items.0.resource") == .string("lead-source"))
            #expect(errors.value("items.0.externalId") == .string("ls-1"))
            #expect(errors.value("items.0.recordId") == .null)
            #expect(errors.value("items.0.requestId") == .string("bad-write-1"))
            #expect(errors.value("items.0.problem.status") == .number(422))

            // A resolved error leaves the list.
            try server.pool.withConnection { connection in
                _ = try connection.execute("UPDATE sync_errors SET resolved_at = now() WHERE request_id = 'bad-write-1'")
            }
            let open = try server.admin("GET", "/clients/acme/sync-errors?limit=1")
            #expect(open.items.count == 1)
            #expect(open["nextCursor"] == .null)
            #expect(try server.admin("GET", "/clients/nobody/sync-errors").status == 404)
        }
    }
}
