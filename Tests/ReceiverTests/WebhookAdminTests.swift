import Foundation
import Logging
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// `/admin/v1/clients/{clientId}/webhook-endpoints…` over HTTP on a fresh database: every
/// route's answer, each problem (and that it changed nothing), tenancy, the secret shown only
/// at creation and rotation, the audit trail without it.
@Suite struct WebhookAdminTests {
    static let hook = #"{"url": "http://127.0.0.1:9/hook", "description": "Club CRM", "eventTypes": ["prospect.created"], "clubIds": ["club-1"], "rateLimit": 50}"#

    /// A server whose admins may add endpoints at loopback addresses (as the tests' receivers are).
    static func run(allowPrivate: Bool = true, logger: Logger? = nil, _ body: (TestServer) throws -> Void) throws {
        var service = ReceiverService.Configuration()
        service.webhookAllowPrivateAddresses = allowPrivate
        try TestServer.run(service: service, adminToken: TestServer.adminToken, logger: logger ?? TestDatabase.logger, body)
    }

    /// Creates an endpoint of `clientId` through the API; its id and secret.
    static func create(_ server: TestServer, _ clientId: String = "acme", _ body: String = hook) throws -> (id: String, secret: String) {
        let created = try server.admin("POST", "/clients/\(clientId)/webhook-endpoints", json: body)
        #expect(created.status == 201, "\(created)")
        return (try #require(created.string("id"), "\(created)"), try #require(created.string("secret"), "\(created)"))
    }

    static func auditText(_ server: TestServer, _ clientId: String = "acme") throws -> (actions: [String], text: String) {
        let audit = try server.admin("GET", "/clients/\(clientId)/audit?limit=500")
        #expect(audit.status == 200, "\(audit)")
        return (audit.itemValues("action").compactMap(\.stringValue), audit.body)
    }

    @Test func anEndpointIsCreatedReadListedChangedAndDeleted() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let created = try server.admin("POST", "/clients/acme/webhook-endpoints", json: Self.hook)
            #expect(created.status == 201, "\(created)")
            let id = try #require(created.string("id"))
            #expect(RecordID.parse(id) != nil)
            #expect(created.header("Location") == "/admin/v1/clients/acme/webhook-endpoints/\(id)")
            #expect(created.header("Cache-Control") == "no-store")
            #expect(created.header("ETag") == "\"1\"")
            let secret = try #require(created.string("secret"))
            #expect(secret.hasPrefix("whsec_"))
            #expect(try WebhookSecret(parsing: secret).key.count == 32)
            #expect(created.string("url") == "http://127.0.0.1:9/hook")
            #expect(created.string("description") == "Club CRM")
            #expect(created["eventTypes"] == .array([.string("prospect.created")]))
            #expect(created["clubIds"] == .array([.string("club-1")]))
            #expect(created["enabled"] == .bool(true) && created["disabledReason"] == .null)
            #expect(created["rateLimit"] == .number(50))
            #expect(created["lastSuccessAt"] == .null && created["failingSince"] == .null)

            let read = try server.admin("GET", "/clients/acme/webhook-endpoints/\(id)")
            #expect(read.status == 200, "\(read)")
            #expect(read.header("Cache-Control") == "no-store")
            #expect(read.header("ETag") == "\"1\"")
            #expect(read["secret"] == nil && !read.body.contains("whsec_"), "never the secret after creation")
            var withoutSecret = created.json?.objectValue
            withoutSecret?["secret"] = nil
            #expect(read.json?.objectValue == withoutSecret, "the same endpoint, without the secret")
            let names = Set(read.json?.objectValue?.members.map(\.name) ?? [])
            #expect(names.isSuperset(of: [
                "id", "url", "description", "eventTypes", "clubIds", "enabled", "disabledReason", "rateLimit",
                "lastSuccessAt", "failingSince", "createdAt", "updatedAt", "version",
            ]))

            let second = try Self.create(server, "acme", #"{"url": "https://127.0.0.1:8443/other"}"#)
            let list = try server.admin("GET", "/clients/acme/webhook-endpoints")
            #expect(list.status == 200, "\(list)")
            // Oldest first by id: time-ordered (UUIDv7), by their random bits within one millisecond.
            let inOrder = [id, second.id].sorted()
            #expect(list.itemValues("id") == inOrder.map(JSONValue.string), "oldest first")
            #expect(list.items.first { $0.objectValue?["id"] == .string(second.id) }?.objectValue?["eventTypes"] == .array([]), "absent: every type")
            #expect(list["nextCursor"] == .null)
            #expect(!list.body.contains("whsec_"))
            let first = try server.admin("GET", "/clients/acme/webhook-endpoints?limit=1")
            #expect(first.itemValues("id") == [.string(inOrder[0])])
            let cursor = try #require(first.string("nextCursor"))
            let next = try server.admin("GET", "/clients/acme/webhook-endpoints?limit=1&cursor=\(cursor)")
            #expect(next.itemValues("id") == [.string(inOrder[1])])
            #expect(next["nextCursor"] == .null)

            let changed = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)",
                                           json: #"{"description": null, "eventTypes": [], "rateLimit": null}"#,
                                           headers: [("If-Match", "\"1\"")], contentType: "application/merge-patch+json")
            #expect(changed.status == 200, "\(changed)")
            #expect(changed["description"] == .null && changed["eventTypes"] == .array([]) && changed["rateLimit"] == .null)
            #expect(changed["clubIds"] == .array([.string("club-1")]), "left as it was")
            #expect(changed["version"] == .number(2))
            #expect(changed["secret"] == nil)
            let stale = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"description": "x"}"#,
                                         headers: [("If-Match", "\"1\"")])
            #expect(stale.status == 412, "\(stale)")

            let disabled = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": false}"#)
            #expect(disabled.status == 200, "\(disabled)")
            #expect(disabled["enabled"] == .bool(false) && disabled["disabledReason"] == .string("admin"))
            #expect(disabled["disabledAt"]?.stringValue.flatMap(Timestamp.parse) != nil)
            let enabled = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": true}"#)
            #expect(enabled["enabled"] == .bool(true) && enabled["disabledReason"] == .null, "\(enabled)")
            let unchanged = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": true}"#)
            #expect(unchanged["version"] == enabled["version"], "nothing changed, nothing written")

            let deleted = try server.admin("DELETE", "/clients/acme/webhook-endpoints/\(id)")
            #expect(deleted.status == 204, "\(deleted)")
            #expect(deleted.body.isEmpty)
            #expect(try server.admin("GET", "/clients/acme/webhook-endpoints/\(id)").status == 404)
            #expect(try server.admin("DELETE", "/clients/acme/webhook-endpoints/\(id)").status == 404, "once")
            #expect(try server.admin("GET", "/clients/acme/webhook-endpoints").itemValues("id") == [.string(second.id)])

            let audit = try Self.auditText(server)
            #expect(audit.actions == ["client.create", "webhook.create", "webhook.create", "webhook.update", "webhook.update",
                                      "webhook.update", "webhook.delete"])
            #expect(!audit.text.contains("whsec_") && !audit.text.contains(secret) && !audit.text.contains(second.secret))
        }
    }

    @Test func aSchemeInCapitalsIsStoredInLowerCaseAndTheRestAsGiven() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let created = try server.admin("POST", "/clients/acme/webhook-endpoints", json: #"{"url": "HTTP://127.0.0.1:9/Hook?Token=AbC"}"#)
            #expect(created.status == 201, "\(created)")
            #expect(created.string("url") == "http://127.0.0.1:9/Hook?Token=AbC")
            let id = try #require(created.string("id"))
            let changed = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"url": "Https://127.0.0.1:9/Other"}"#)
            #expect(changed.status == 200, "\(changed)")
            #expect(changed.string("url") == "https://127.0.0.1:9/Other")
        }
    }

    @Test func theSecretIsShownAtCreationAndRotationOnlyAndNeverLoggedOrAudited() throws {
        let capture = LogCapture()
        try Self.run(logger: capture.logger()) { server in
            _ = try server.adminTurnUp("acme")
            let brought = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            let created = try Self.create(server, "acme", #"{"url": "http://127.0.0.1:9/", "secret": "\#(brought)"}"#)
            #expect(created.secret == brought, "a secret brought from another provider is kept")

            let rotated = try server.admin("POST", "/clients/acme/webhook-endpoints/\(created.id)/secret")
            #expect(rotated.status == 201, "\(rotated)")
            #expect(rotated.header("Cache-Control") == "no-store")
            #expect(Set(rotated.json?.objectValue?.members.map(\.name) ?? []) == ["secret"])
            let newSecret = try #require(rotated.string("secret"))
            #expect(newSecret.hasPrefix("whsec_") && newSecret != brought)
            let stored = try server.pool.withConnection { connection in
                try connection.query("""
                    SELECT secret, previous_secret, previous_secret_expires_at > now() + interval '23 hours' AS overlap
                    FROM webhook_endpoints WHERE id = \(try #require(RecordID.parse(created.id)))
                    """)[0]
            }
            #expect(try stored.decode("secret", as: String.self) == newSecret)
            #expect(try stored.decode("previous_secret", as: String?.self) == brought, "the old one keeps signing")
            #expect(try stored.decode("overlap", as: Bool.self))
            let read = try server.admin("GET", "/clients/acme/webhook-endpoints/\(created.id)")
            #expect(read["previousSecretExpiresAt"]?.stringValue.flatMap(Timestamp.parse) != nil, "\(read)")

            for path in ["/clients/acme/webhook-endpoints", "/clients/acme/webhook-endpoints/\(created.id)",
                         "/clients/acme/webhook-endpoints/\(created.id)/deliveries", "/clients/acme/audit"] {
                let body = try server.admin("GET", path).body
                #expect(!body.contains("whsec_") && !body.contains(newSecret) && !body.contains(brought), "\(path): \(body)")
            }
            let audit = try Self.auditText(server)
            #expect(audit.actions.suffix(2) == ["webhook.create", "webhook.rotate_secret"])
            let logged = capture.all.joined(separator: "\n")
            #expect(logged.contains("webhook.create") && logged.contains("webhook.rotate_secret"), "each change has its log line")
            #expect(!logged.contains("whsec_") && !logged.contains(newSecret) && !logged.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        }
    }

    @Test func badInputIsAPreciseProblemAndChangesNothing() throws {
        try Self.run(allowPrivate: false) { server in
            _ = try server.adminTurnUp("acme")
            let cases: [(String, String)] = [
                (#"{"url": "https://93.184.215.14/", "eventTypes": ["prospect.created", "prospect.deleted"]}"#, "eventTypes"),
                (#"{"url": "ftp://example.com/hook"}"#, "url"),
                (#"{"url": "example.com/hook"}"#, "url"),
                (#"{"url": "https://user:pw@example.com/hook"}"#, "url"),
                (#"{"description": "no url"}"#, "url"),
                (#"{"url": "https://93.184.215.14/", "clubIds": ["club-9"]}"#, "clubIds"),
                (#"{"url": "https://93.184.215.14/", "rateLimit": 0}"#, "rateLimit"),
                (#"{"url": "https://93.184.215.14/", "enabled": "yes"}"#, "enabled"),
                (#"{"url": "https://93.184.215.14/", "secret": "whsec_c2hvcnQ="}"#, "secret"),
                (#"{"url": "https://93.184.215.14/", "eventTypes": "prospect.created"}"#, "eventTypes"),
            ]
            for (body, field) in cases {
                let refused = try server.admin("POST", "/clients/acme/webhook-endpoints", json: body)
                #expect(refused.status == 422, "\(body): \(refused)")
                #expect(refused.header("Content-Type") == "application/problem+json")
                #expect(refused.errorFields.contains(field), "\(body): \(refused)")
            }
            let unknownType = try server.admin("POST", "/clients/acme/webhook-endpoints", json: cases[0].0)
            #expect(unknownType.body.contains("prospect.deleted") && unknownType.body.contains("member.updated"), "names the bad one and the known ones")

            for url in ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]:8080/", "http://169.254.169.254/latest/", "http://localhost/"] {
                let refused = try server.admin("POST", "/clients/acme/webhook-endpoints", json: #"{"url": "\#(url)"}"#)
                #expect(refused.status == 422, "\(url): \(refused)")
                #expect(refused.errorFields == ["url"])
                #expect(refused.body.contains("--webhook-allow-private-addresses"), "says what to do: \(refused)")
            }

            #expect(try server.admin("POST", "/clients/acme/webhook-endpoints", json: "{", contentType: "application/json").status == 400)
            #expect(try server.admin("POST", "/clients/acme/webhook-endpoints", json: "[]").status == 400)
            #expect(try server.admin("POST", "/clients/acme/webhook-endpoints", json: Self.hook, contentType: "text/plain").status == 415)
            #expect(try server.admin("POST", "/clients/nobody/webhook-endpoints", json: #"{"url": "https://93.184.215.14/"}"#).status == 404)
            #expect(try server.admin("POST", "/clients/acme/webhook-endpoints", json: Self.hook, token: nil).status == 401)
            #expect(try server.admin("POST", "/clients/acme/webhook-endpoints", json: Self.hook, token: "wrong").status == 401)

            let count = try server.pool.withConnection { connection in
                try connection.query("SELECT count(*) AS n FROM webhook_endpoints")[0].decode("n", as: Int64.self)
            }
            #expect(count == 0, "nothing was created")
            #expect(try Self.auditText(server).actions == ["client.create"], "nor audited")
        }
    }

    /// A changed URL's address is checked (outside the change's transaction, which then runs
    /// again): a private one is refused and changes nothing, a public one is stored.
    @Test func aChangedURLIsCheckedLikeANewOne() throws {
        try Self.run(allowPrivate: false) { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server, "acme", #"{"url": "https://93.184.215.14/hook"}"#)
            let path = "/clients/acme/webhook-endpoints/\(id)"
            let refused = try server.admin("PATCH", path, json: #"{"url": "http://10.1.2.3/hook", "description": "moved"}"#)
            #expect(refused.status == 422, "\(refused)")
            #expect(refused.errorFields == ["url"])
            let unchanged = try server.admin("GET", path)
            #expect(unchanged.string("url") == "https://93.184.215.14/hook" && unchanged.value("description") == .null)
            #expect(try server.admin("PATCH", path, json: #"{"description": "CRM"}"#).status == 200, "no URL, no check")
            let moved = try server.admin("PATCH", path, json: #"{"url": "https://93.184.215.15/hook"}"#)
            #expect(moved.status == 200, "\(moved)")
            #expect(moved.string("url") == "https://93.184.215.15/hook" && moved.string("description") == "CRM")
            #expect(try Self.auditText(server).actions == ["client.create", "webhook.create", "webhook.update", "webhook.update"])
        }
    }

    @Test func badChangesAndQueriesAreProblemsAndUnknownIdsAre404() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server)
            let base = "/clients/acme/webhook-endpoints/\(id)"
            for (patch, field) in [(#"{"url": null}"#, "url"), (#"{"enabled": null}"#, "enabled"), (#"{"secret": "whsec_x"}"#, "secret"),
                                   (#"{"url": "gopher://example.com/"}"#, "url"), (#"{"clubIds": ["nope"]}"#, "clubIds"),
                                   (#"{"eventTypes": ["x"]}"#, "eventTypes"), (#"{"rateLimit": -1}"#, "rateLimit")] {
                let refused = try server.admin("PATCH", base, json: patch)
                #expect(refused.status == 422, "\(patch): \(refused)")
                #expect(refused.errorFields == [field], "\(patch): \(refused)")
            }
            #expect(try server.admin("GET", base)["version"] == .number(1), "nothing changed")

            for query in ["status=done", "status=pending&status=failed", "limit=0", "limit=501", "limit=x", "cursor=nonsense",
                          "cursor=\(Page.encode(["x"]))", "cursor=\(Page.encode(["1", "x"]))"] {
                let refused = try server.admin("GET", base + "/deliveries?" + query)
                #expect(refused.status == 400, "\(query): \(refused)")
            }
            #expect(try server.admin("GET", "/clients/acme/webhook-endpoints?cursor=\(Page.encode(["1", "2"]))").status == 400)

            for body in [#"{}"#, #"{"since": "yesterday"}"#, #"{"since": 5}"#] {
                let refused = try server.admin("POST", base + "/recover", json: body)
                #expect(refused.status == 422, "\(body): \(refused)")
                #expect(refused.errorFields == ["since"])
            }
            #expect(try server.admin("POST", base + "/recover", json: #"{"since": "2026-01-01T00:00:00Z"}"#, contentType: "text/plain").status == 415)

            let unknown = UUID().uuidString.lowercased()
            let requests: [(String, String, String?)] = [
                ("GET", "", nil), ("PATCH", "", #"{"description": "x"}"#), ("DELETE", "", nil), ("POST", "/secret", nil),
                ("GET", "/deliveries", nil), ("POST", "/deliveries/evt_\(UUID().uuidString.lowercased())/resend", nil),
                ("POST", "/recover", #"{"since": "2026-01-01T00:00:00Z"}"#),
            ]
            for (method, suffix, body) in requests {
                for endpointId in [unknown, "not-an-id"] {
                    let missing = try server.admin(method, "/clients/acme/webhook-endpoints/\(endpointId)\(suffix)", json: body)
                    #expect(missing.status == 404, "\(method) \(suffix) \(endpointId): \(missing)")
                    #expect(missing.string("detail")?.contains("No webhook endpoint \(endpointId) at client acme") == true, "\(missing)")
                }
                let noClient = try server.admin(method, "/clients/nobody/webhook-endpoints/\(unknown)\(suffix)", json: body)
                #expect(noClient.status == 404, "\(method) \(suffix): \(noClient)")
                #expect(noClient.string("detail")?.contains("nobody") == true)
            }
            #expect(try server.admin("GET", "/clients/nobody/webhook-endpoints").status == 404)
            for event in ["evt_\(UUID().uuidString.lowercased())", "not-an-event"] {
                let missing = try server.admin("POST", base + "/deliveries/\(event)/resend")
                #expect(missing.status == 404, "\(missing)")
                #expect(missing.string("detail")?.contains("No delivery of event \(event)") == true, "\(missing)")
            }
            #expect(try Self.auditText(server).actions == ["client.create", "webhook.create"], "nothing audited")
        }
    }

    @Test func anUnreachableDatabaseIsA503OnEveryWebhookRoute() throws {
        // Nothing listens on port 9 (discard) on loopback.
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        var service = ReceiverService.Configuration()
        service.webhookAllowPrivateAddresses = true
        try TestServer.run(database: unreachable, service: service, adminToken: TestServer.adminToken) { server in
            let base = "/clients/acme/webhook-endpoints"
            let id = UUID().uuidString.lowercased()
            let requests: [(String, String, String?)] = [
                ("POST", base, Self.hook), ("GET", base, nil), ("GET", base + "/\(id)", nil),
                ("PATCH", base + "/\(id)", #"{"enabled": false}"#), ("DELETE", base + "/\(id)", nil), ("POST", base + "/\(id)/secret", nil),
                ("GET", base + "/\(id)/deliveries", nil), ("POST", base + "/\(id)/deliveries/evt_\(id)/resend", nil),
                ("POST", base + "/\(id)/recover", #"{"since": "2026-01-01T00:00:00Z"}"#),
            ]
            for (method, path, body) in requests {
                let response = try server.admin(method, path, json: body)
                #expect(response.status == 503, "\(method) \(path): \(response)")
                #expect(response.header("Retry-After") != nil)
                #expect(response.string("type") == "urn:connector-receiver:problem:database-unavailable", "\(method) \(path)")
            }
        }
    }

    @Test func anotherClientsEndpointIsUnknown() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("other")
            let (id, _) = try Self.create(server, "other")
            let fixture = try WebhookDeliveryFixture(server: server, clientId: "other", endpointId: id)
            let event = try fixture.add(status: "failed", attempts: [(nil, "connection refused", -60)])
            let requests: [(String, String, String?)] = [
                ("GET", "", nil), ("PATCH", "", #"{"enabled": false}"#), ("DELETE", "", nil), ("POST", "/secret", nil),
                ("GET", "/deliveries", nil), ("POST", "/deliveries/\(event)/resend", nil),
                ("POST", "/recover", #"{"since": "2000-01-01T00:00:00Z"}"#),
            ]
            for (method, suffix, body) in requests {
                let response = try server.admin(method, "/clients/acme/webhook-endpoints/\(id)\(suffix)", json: body)
                #expect(response.status == 404, "\(method) \(suffix): \(response)")
                #expect(response.string("detail")?.contains("No webhook endpoint \(id) at client acme") == true)
            }
            #expect(try server.admin("GET", "/clients/acme/webhook-endpoints").items.isEmpty)
            let untouched = try server.admin("GET", "/clients/other/webhook-endpoints/\(id)")
            #expect(untouched["version"] == .number(1) && untouched["enabled"] == .bool(true), "\(untouched)")
            #expect(try fixture.state(event).status == "failed")
            #expect(try Self.auditText(server, "acme").actions == ["client.create"])
        }
    }

    @Test func theDeliveryLogPagesNewestFirstAndFiltersByState() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server)
            let fixture = try WebhookDeliveryFixture(server: server, clientId: "acme", endpointId: id)
            let succeeded = try fixture.add(status: "succeeded", attempts: [(503, "answered 503", -120), (204, nil, -60)])
            let failed = try fixture.add(status: "failed", attempts: [(nil, "connection refused", -30)])
            let pending = try fixture.add(status: "pending", attempts: [])
            let base = "/clients/acme/webhook-endpoints/\(id)/deliveries"

            let all = try server.admin("GET", base)
            #expect(all.status == 200, "\(all)")
            #expect(all.header("Cache-Control") == "no-store")
            #expect(all.itemValues("eventId") == [pending, failed, succeeded, succeeded].map(JSONValue.string))
            #expect(all.itemValues("attempt") == [.null, .number(1), .number(2), .number(1)])
            #expect(all.itemValues("status") == [.null, .null, .number(204), .number(503)])
            #expect(all.itemValues("error") == [.null, .string("connection refused"), .null, .string("answered 503")])
            #expect(all.itemValues("deliveryStatus") == ["pending", "failed", "succeeded", "succeeded"].map(JSONValue.string))
            #expect(all.itemValues("latencyMs") == [.null, .number(12), .number(12), .number(12)])
            #expect(all.itemValues("eventType").allSatisfy { $0 == .string("prospect.created") })
            #expect(all.value("items.0.nextAttemptAt")?.stringValue.flatMap(Timestamp.parse) != nil, "a pending one says when it is due")
            #expect(all.value("items.1.nextAttemptAt") == .null)
            let at = all.itemValues("at").compactMap { $0.stringValue.flatMap(Timestamp.parse) }
            #expect(at.count == 3 && at[0] > at[1] && at[1] > at[2], "newest first")
            #expect(all["nextCursor"] == .null)

            var seen: [JSONValue] = []
            var cursor: String?
            repeat {
                let page = try server.admin("GET", base + "?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200, "\(page)")
                #expect(page.items.count == 1)
                seen += page.items
                cursor = page.string("nextCursor")
            } while cursor != nil && seen.count < 10
            #expect(seen == all.items, "pages of one follow on without a gap or a repeat")

            let onlyFailed = try server.admin("GET", base + "?status=failed")
            #expect(onlyFailed.itemValues("eventId") == [.string(failed)])
            let onlySucceeded = try server.admin("GET", base + "?status=succeeded&limit=1")
            #expect(onlySucceeded.itemValues("attempt") == [.number(2)])
            let rest = try server.admin("GET", base + "?status=succeeded&cursor=\(try #require(onlySucceeded.string("nextCursor")))")
            #expect(rest.itemValues("attempt") == [.number(1)])
            #expect(try server.admin("GET", base + "?status=pending").itemValues("eventId") == [.string(pending)])
            #expect(try server.admin("GET", base + "?eventId=\(succeeded)").itemValues("attempt") == [.number(2), .number(1)])
            #expect(try server.admin("GET", base + "?eventId=nonsense").status == 400)
        }
    }

    /// Failed deliveries among many succeeded ones are found by their own index (migration
    /// 0008), not by reading every delivery of the endpoint newest first; in the plan made for
    /// any values too, as a prepared statement's plan becomes after a few executions.
    @Test func theFailedFilterReadsTheFailedDeliveriesIndex() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server)
            let fixture = try WebhookDeliveryFixture(server: server, clientId: "acme", endpointId: id)
            let failed = try fixture.add(status: "failed", attempts: [(500, "HTTP 500", -60)])
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body, status, finished_at)
                    SELECT 'acme', '\(fixture.endpointId.lowercasedString)', gen_random_uuid(), 'prospect.created', gen_random_uuid(), now(), '{}',
                           'succeeded', now()
                    FROM generate_series(1, 20000);
                    ANALYZE webhook_deliveries
                    """)
            }
            let base = "/clients/acme/webhook-endpoints/\(id)/deliveries"
            let onlyFailed = try server.admin("GET", base + "?status=failed")
            #expect(onlyFailed.itemValues("eventId") == [.string(failed)], "\(onlyFailed)")
            for mode in ["force_custom_plan", "force_generic_plan"] {
                let plan = try server.pool.withConnection { connection in
                    try connection.transaction { connection in
                        try connection.execute("SET LOCAL plan_cache_mode = \(unescaped: mode)")
                        let statement = WebhookDeliveryLog.listStatement(
                            endpointId: fixture.endpointId, clientId: "acme", status: .failed, eventId: nil, after: nil, limit: 51)
                        return try connection.query("EXPLAIN \(statement)").map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
                    }
                }
                #expect(plan.contains("webhook_deliveries_failed"), "\(mode):\n\(plan)")
            }
        }
    }

    @Test func resendMakesOneDeliveryDueNowWithTheScheduleFromTheStart() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server)
            let fixture = try WebhookDeliveryFixture(server: server, clientId: "acme", endpointId: id)
            let succeeded = try fixture.add(status: "succeeded", attempts: [(204, nil, -60)])
            let failed = try fixture.add(status: "failed", attempts: [(500, "answered 500", -90), (500, "answered 500", -30)], scheduleStep: 2)
            let claimed = try fixture.add(status: "pending", attempts: [(500, "answered 500", -30)], scheduleStep: 1,
                                          claimedBy: "other-instance")
            let base = "/clients/acme/webhook-endpoints/\(id)/deliveries"

            for event in [succeeded, failed, claimed] {
                let resent = try server.admin("POST", base + "/\(event)/resend")
                #expect(resent.status == 202, "\(resent)")
                let state = try fixture.state(event)
                #expect(state.status == "pending" && state.scheduleStep == 0 && state.due && state.finishedAt == nil, "\(event): \(state)")
            }
            #expect(try fixture.state(failed).attempts == 2, "the log keeps counting on")
            #expect(try fixture.state(claimed).claimedBy == "other-instance", "a transfer under way keeps its claim")
            #expect(try fixture.state(succeeded).claimedBy == nil)
            let bare = try #require(succeeded.split(separator: "_").last)
            #expect(try server.admin("POST", base + "/\(bare)/resend").status == 202, "the bare uuid works too")

            let audit = try server.admin("GET", "/clients/acme/audit?limit=500")
            let resends = audit.items.filter { $0.objectValue?["action"] == .string("webhook.resend") }
            #expect(resends.count == 4)
            #expect(resends.first?.objectValue?["changes"] == .object([
                "id": .string(id), "eventId": .string(succeeded),
                "status": .object(["from": .string("succeeded"), "to": .string("pending")]),
            ]))

            #expect(try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": false}"#).status == 200)
            let done = try fixture.add(status: "succeeded", attempts: [(204, nil, -10)])
            let refused = try server.admin("POST", base + "/\(done)/resend")
            #expect(refused.status == 409, "\(refused)")
            #expect(refused.string("detail")?.contains(#"{"enabled": true}"#) == true, "says what to do: \(refused)")
            #expect(try fixture.state(done).status == "succeeded", "nothing changed")
        }
    }

    @Test func recoverSendsAgainEveryDeliveryThatFailedSinceThen() throws {
        try Self.run { server in
            _ = try server.adminTurnUp("acme")
            let (id, _) = try Self.create(server)
            let fixture = try WebhookDeliveryFixture(server: server, clientId: "acme", endpointId: id)
            // The outage began an hour ago (attempts at seconds from now).
            let failedBefore = try fixture.add(status: "failed", attempts: [(500, "answered 500", -3 * 3600)], scheduleStep: 1)
            let failedDuring = try fixture.add(status: "failed", attempts: [(500, "answered 500", -2 * 3600), (nil, "timed out", -50 * 60)], scheduleStep: 2)
            let retrying = try fixture.add(status: "pending", attempts: [(503, "answered 503", -20 * 60)], scheduleStep: 1, dueInSeconds: 3600)
            let recovered = try fixture.add(status: "succeeded", attempts: [(nil, "connection refused", -40 * 60), (200, nil, -10 * 60)])
            let untried = try fixture.add(status: "pending", attempts: [], dueInSeconds: 600)
            let since = Timestamp.format(Date().addingTimeInterval(-3600))

            let response = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/recover", json: #"{"since": "\#(since)"}"#)
            #expect(response.status == 202, "\(response)")
            #expect(response["deliveries"] == .number(2))
            for event in [failedDuring, retrying] {
                let state = try fixture.state(event)
                #expect(state.status == "pending" && state.scheduleStep == 0 && state.due && state.finishedAt == nil, "\(state)")
            }
            #expect(try fixture.state(failedBefore).status == "failed", "failed before the time given")
            #expect(try fixture.state(recovered).status == "succeeded", "delivered in the end")
            #expect(try !fixture.state(untried).due, "no attempt failed: left to its schedule")

            let again = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/recover", json: #"{"since": "\#(since)"}"#)
            #expect(again["deliveries"] == .number(2), "still undelivered, so sent again again")
            let audit = try server.admin("GET", "/clients/acme/audit?limit=500")
            let recovers = audit.items.filter { $0.objectValue?["action"] == .string("webhook.recover") }
            #expect(recovers.count == 2)
            #expect(recovers.first?.objectValue?["changes"]?.objectValue?["deliveries"] == .number(2))

            #expect(try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": false}"#).status == 200)
            let refused = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/recover", json: #"{"since": "\#(since)"}"#)
            #expect(refused.status == 409, "\(refused)")
        }
    }
}

/// Delivery rows as the engine leaves them (migration 0005), written directly so that the
/// log, resend and recover can be checked against every state without waiting for retries.
struct WebhookDeliveryFixture {
    let server: TestServer
    let clientId: String
    let endpointId: UUID

    init(server: TestServer, clientId: String, endpointId: String) throws {
        guard let id = RecordID.parse(endpointId) else { throw TestSetupError(description: "not an endpoint id: \(endpointId)") }
        (self.server, self.clientId, self.endpointId) = (server, clientId, id)
    }

    /// A delivery of a new event with `attempts` (HTTP status, error, seconds from now, each
    /// taking 12 ms); returns the event's id as deliveries carry it.
    func add(
        status: String, attempts: [(Int?, String?, Int)], scheduleStep: Int = 0, dueInSeconds: Int = 0, claimedBy: String? = nil
    ) throws -> String {
        let eventId = UUID()
        try server.pool.withConnection { connection in
            let rows = try connection.query("""
                INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body, status,
                                                attempts, schedule_step, next_attempt_at, claimed_by, claimed_until, finished_at)
                VALUES (\(clientId), \(endpointId), \(eventId), 'prospect.created', \(UUID()), now() - interval '4 hours', '{}', \(status),
                        \(attempts.count), \(scheduleStep), now() + make_interval(secs => \(dueInSeconds)),
                        \(claimedBy), CASE WHEN \(claimedBy)::text IS NULL THEN NULL ELSE now() + interval '1 minute' END,
                        CASE WHEN \(status) = 'pending' THEN NULL ELSE now() END)
                RETURNING id
                """)
            let deliveryId: Int64 = try rows[0].decode("id")
            for (index, attempt) in attempts.enumerated() {
                try connection.execute("""
                    INSERT INTO webhook_attempts (endpoint_id, delivery_id, attempt, at, status, latency_ms, error)
                    VALUES (\(endpointId), \(deliveryId), \(index + 1), now() + make_interval(secs => \(attempt.2)), \(attempt.0), 12, \(attempt.1))
                    """)
            }
        }
        return WebhookDeliveryLog.eventIdText(eventId)
    }

    struct State: CustomStringConvertible {
        var status: String
        var scheduleStep: Int
        var attempts: Int
        var due: Bool
        var finishedAt: Date?
        var claimedBy: String?
        var description: String { "\(status) step \(scheduleStep) attempts \(attempts) due \(due) finished \(String(describing: finishedAt))" }
    }

    func state(_ event: String) throws -> State {
        let eventId = try #require(WebhookDeliveryLog.parseEventId(event))
        let row = try server.pool.withConnection { connection in
            try connection.query("""
                SELECT status, schedule_step, attempts, next_attempt_at <= now() AS due, finished_at, claimed_by
                FROM webhook_deliveries WHERE endpoint_id = \(endpointId) AND event_id = \(eventId)
                """)[0]
        }
        return State(status: try row.decode("status"), scheduleStep: try row.decode("schedule_step"), attempts: try row.decode("attempts"),
                     due: try row.decode("due"), finishedAt: try row.decode("finished_at"), claimedBy: try row.decode("claimed_by"))
    }
}
