import Foundation
import OutboundHTTP
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore

/// Webhook endpoints in the database: create (secret once), list, get, change, re-enable,
/// delete, rotate; validation and the address rule at creation.
@Suite struct WebhookEndpointStoreTests {
    static let admin = AuditContext(actor: "test")

    static func input(_ json: String) throws -> WebhookEndpointInput {
        guard case .object(let body) = try JSONParser.parse(Array(json.utf8)) else { throw TestSetupError(description: "not an object") }
        return try WebhookEndpointInput.parse(body).validated()
    }

    static func errors(_ json: String) throws -> [String] {
        guard case .object(let body) = try JSONParser.parse(Array(json.utf8)) else { throw TestSetupError(description: "not an object") }
        switch WebhookEndpointInput.parse(body) {
        case .success: return []
        case .failure(let failure): return failure.errors.map(\.description)
        }
    }

    @Test func createShowsTheSecretOnceAndStoresTheEndpointWithItsPosition() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                let created = try WebhookEndpointStore.create(
                    clientId: "acme",
                    try Self.input(#"{"url": "http://127.0.0.1:9/hook", "description": " CRM ", "eventTypes": ["prospect.created"], "clubIds": ["club-1"], "rateLimit": 50}"#),
                    allowPrivateAddresses: true, by: Self.admin, on: connection)
                #expect(created.secret.encoded.hasPrefix("whsec_"))
                #expect(try WebhookSecret(parsing: created.secret.encoded).key == created.secret.key)
                #expect(created.json["secret"]?.stringValue == created.secret.encoded)
                let endpoint = created.endpoint
                #expect(endpoint.url == "http://127.0.0.1:9/hook")
                #expect(endpoint.description == "CRM")
                #expect(endpoint.eventTypes == ["prospect.created"] && endpoint.clubIds == ["club-1"])
                #expect(endpoint.enabled && endpoint.disabledReason == nil && endpoint.rateLimit == 50)
                #expect(endpoint.json["secret"] == nil, "never shown after creation")
                #expect(try WebhookEndpointStore.require(endpoint.id, clientId: "acme", on: connection) == endpoint)

                let stored = try connection.query("SELECT secret FROM webhook_endpoints WHERE id = \(endpoint.id)")
                #expect(try stored[0].decode("secret", as: String.self) == created.secret.encoded)
                let position = try connection.query("""
                    SELECT pos_xid::text::numeric < pg_snapshot_xmin(pg_current_snapshot())::text::numeric AS below, seq
                    FROM webhook_positions WHERE endpoint_id = \(endpoint.id)
                    """)
                #expect(try position[0].decode("below", as: Bool.self))
                #expect(try position[0].decode("seq", as: Int64.self) == Int64.max)
                let audit = try AuditLog.list(clientId: "acme", after: nil, limit: 10, on: connection).filter { $0.action == "webhook.create" }
                #expect(audit.count == 1)
                #expect(audit.first?.actor == "test")
                let auditText = String(decoding: JSONWriter.serialize(.object(audit.first?.changes ?? [:])), as: UTF8.self)
                #expect(auditText.contains("127.0.0.1:9/hook") && !auditText.contains(created.secret.encoded) && !auditText.contains("whsec_"))
            }
        }
    }

    @Test func aSecretBroughtByTheAdminIsKept() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                let created = try WebhookEndpointStore.create(
                    clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/", "secret": "\#(secret)"}"#),
                    allowPrivateAddresses: true, by: Self.admin, on: connection)
                #expect(created.secret.encoded == secret)
            }
        }
        #expect(try Self.errors(#"{"url": "http://example.com/", "secret": "whsec_short"}"#).contains { $0.hasPrefix("secret:") })
    }

    @Test func listPagesGetAndUnknownIdsAre404() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.turnUp("other")
            try server.pool.withConnection { connection in
                var ids: [UUID] = []
                for index in 0..<5 {
                    ids.append(try WebhookEndpointStore.create(
                        clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/\#(index)"}"#),
                        allowPrivateAddresses: true, by: Self.admin, on: connection).endpoint.id)
                }
                // Pages follow the ids' order (PostgreSQL's, byte by byte: the hex text's order).
                // The ids lead with the time in milliseconds, but two made in one millisecond
                // are ordered by their random bits, not by when they were made.
                let ordered = ids.sorted { $0.uuidString < $1.uuidString }
                let first = try WebhookEndpointStore.list(clientId: "acme", after: nil, limit: 3, on: connection)
                #expect(first.map(\.id) == Array(ordered.prefix(3)))
                let page = try Page.parse("3", Page.encode(WebhookEndpointStore.sortKey(first[2])), keyCount: 1)
                let rest = try WebhookEndpointStore.list(clientId: "acme", after: try WebhookEndpointStore.after(page), limit: 3, on: connection)
                #expect(rest.map(\.id) == Array(ordered.suffix(2)))
                #expect(try WebhookEndpointStore.list(clientId: "other", after: nil, limit: 10, on: connection).isEmpty)

                #expect(throws: WebhookEndpointStore.unknownEndpoint(ids[0].lowercasedString, clientId: "other")) {
                    try WebhookEndpointStore.require(ids[0], clientId: "other", on: connection)
                }
                #expect(throws: WebhookEndpointStore.unknownEndpoint("nope", clientId: "acme")) {
                    try WebhookEndpointStore.parseId("nope", clientId: "acme", on: connection)
                }
                #expect(throws: ClientStore.unknownClient("ghost")) {
                    try WebhookEndpointStore.parseId("nope", clientId: "ghost", on: connection)
                }
                #expect(throws: ClientStore.unknownClient("ghost")) {
                    try WebhookEndpointStore.create(clientId: "ghost", try Self.input(#"{"url": "http://127.0.0.1:9/"}"#),
                                                    allowPrivateAddresses: true, by: Self.admin, on: connection)
                }
            }
        }
    }

    @Test func badInputNamesEveryBadField() throws {
        let errors = try Self.errors(#"{"url": "ftp://example.com/x", "eventTypes": ["prospect.created", "prospect.exploded"], "clubIds": ["bad id"], "rateLimit": 0, "enabled": "yes"}"#)
        #expect(errors.count == 5, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("url:") && $0.contains("http") })
        #expect(errors.contains { $0.hasPrefix("eventTypes:") && $0.contains("prospect.exploded") })
        #expect(errors.contains { $0.hasPrefix("clubIds:") })
        #expect(errors.contains { $0.hasPrefix("rateLimit:") })
        #expect(errors.contains { $0.hasPrefix("enabled:") })
        #expect(try Self.errors(#"{}"#) == ["url: is required"])
        #expect(try Self.errors(#"{"url": "https://user:pw@example.com/"}"#).first?.contains("user:password@") == true)
        #expect(try Self.errors(#"{"url": "not a url"}"#).first?.hasPrefix("url:") == true)
        #expect(try Self.errors(#"{"url": "https://example.com/hook", "rateLimit": null, "eventTypes": [], "clubIds": null}"#).isEmpty)
    }

    @Test func aClubTheClientDoesNotHaveIsRefused() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                #expect(throws: ReceiverError.invalidField("clubIds", "client acme has no club club-9")) {
                    try WebhookEndpointStore.create(clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/", "clubIds": ["club-1", "club-9"]}"#),
                                                    allowPrivateAddresses: true, by: Self.admin, on: connection)
                }
                let stored = try connection.query("SELECT count(*) FROM webhook_endpoints")[0].decode(0, as: Int.self)
                #expect(stored == 0)
            }
        }
    }

    @Test func privateAddressesAreRefusedUnlessAllowed() throws {
        for url in ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.1/",
                    "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/",
                    "http://[fd00::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/"] {
            #expect(throws: ReceiverError.self, "\(url)") {
                try WebhookEndpointInput.checkAddress(of: url, allowPrivateAddresses: false)
            }
            try WebhookEndpointInput.checkAddress(of: url, allowPrivateAddresses: true)
        }
        do {
            try WebhookEndpointInput.checkAddress(of: "http://127.0.0.1/", allowPrivateAddresses: false)
        } catch {
            #expect(error.description.contains("127.0.0.1 is loopback") || error.description.contains("127.0.0.1, which is loopback"), "\(error)")
        }
        // A public address literal passes without DNS.
        try WebhookEndpointInput.checkAddress(of: "https://93.184.215.14/hook", allowPrivateAddresses: false)
        try WebhookEndpointInput.checkAddress(of: "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", allowPrivateAddresses: false)

        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                #expect(throws: ReceiverError.self) {
                    try WebhookEndpointStore.create(clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/"}"#),
                                                    allowPrivateAddresses: false, by: Self.admin, on: connection)
                }
                let stored = try connection.query("SELECT count(*) FROM webhook_endpoints")[0].decode(0, as: Int.self)
                #expect(stored == 0)
            }
        }
    }

    @Test func addressClassification() {
        let refused = ["127.0.0.1", "127.255.0.9", "10.0.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0",
                       "100.127.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1%eth0", "fc00::1", "fd12:3456::1",
                       "ff02::1", "::ffff:10.0.0.1", "[::ffff:127.0.0.1]", "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:c0a8:0101::1",
                       "fec0::1", "nonsense"]
        for address in refused { #expect(AddressPolicy.refusal(address) != nil, "\(address)") }
        let allowed = ["8.8.8.8", "93.184.215.14", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
        for address in allowed { #expect(AddressPolicy.refusal(address) == nil, "\(address)") }
        #expect(AddressPolicy.refusal("::ffff:169.254.1.1") == "link-local")
    }

    @Test func updateDisableAndReEnableResumesFromTheFirstUndelivered() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                let endpoint = try WebhookEndpointStore.create(
                    clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/"}"#),
                    allowPrivateAddresses: true, by: Self.admin, on: connection).endpoint
                func patch(_ json: String) throws -> WebhookEndpoint {
                    try WebhookEndpointStore.update(endpoint.id, clientId: "acme", allowPrivateAddresses: false, by: Self.admin, on: connection) { current in
                        guard case .object(let body) = try JSONParser.parse(Array(json.utf8)) else { throw TestSetupError(description: "json") }
                        return try WebhookEndpointInput.parse(patch: body, over: current).validated()
                    }
                }
                let unchanged = try patch(#"{"enabled": true}"#)
                #expect(unchanged.version == endpoint.version, "nothing changed, nothing written")

                let disabled = try patch(#"{"enabled": false, "description": "paused", "rateLimit": 5}"#)
                #expect(!disabled.enabled && disabled.disabledReason == .admin && disabled.disabledAt != nil)
                #expect(disabled.description == "paused" && disabled.rateLimit == 5 && disabled.version == endpoint.version + 1)

                // Deliveries that waited while it was disabled: a pending one with a retry far
                // ahead, and one whose schedule ran out while it was failing.
                try connection.execute("UPDATE webhook_endpoints SET failing_since = now() - interval '1 day', warned_at = now() WHERE id = \(endpoint.id)")
                for (index, status) in ["pending", "failed", "succeeded"].enumerated() {
                    try connection.execute("""
                        INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body, status,
                                                        attempts, schedule_step, next_attempt_at, finished_at)
                        VALUES ('acme', \(endpoint.id), \(RecordID.make()), 'prospect.created', \(RecordID.make()), now(), \("{\"n\": \(index)}"),
                                \(status), 3, 3, now() + interval '5 hours', CASE WHEN \(status) = 'pending' THEN NULL ELSE now() END)
                        """)
                }
                #expect(throws: ReceiverError.self, "the URL is checked again when it changes") { try patch(#"{"url": "http://127.0.0.1:10/"}"#) }
                #expect(throws: ReceiverError.invalid([FieldError(field: "url", message: "must not be null")])) { try patch(#"{"url": null}"#) }

                let enabled = try patch(#"{"enabled": true, "rateLimit": null, "description": null}"#)
                #expect(enabled.enabled && enabled.disabledReason == nil && enabled.disabledAt == nil)
                #expect(enabled.failingSince == nil && enabled.warnedAt == nil && enabled.rateLimit == nil && enabled.description == nil)
                let due = try connection.query("""
                    SELECT status, schedule_step, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE endpoint_id = \(endpoint.id) ORDER BY id
                    """).map { (try $0.decode("status", as: String.self), try $0.decode("schedule_step", as: Int.self), try $0.decode("due", as: Bool.self)) }
                #expect(due.map(\.0) == ["pending", "pending", "succeeded"])
                #expect(due[0].1 == 0 && due[0].2 && due[1].1 == 0 && due[1].2)
                let actions = try AuditLog.list(clientId: "acme", after: nil, limit: 10, on: connection).map(\.action)
                #expect(actions.filter { $0.hasPrefix("webhook.") } == ["webhook.create", "webhook.update", "webhook.update"])
            }
        }
    }

    @Test func rotateKeepsThePreviousSecretFor24HoursAndDeleteRemovesEverything() throws {
        try TestServer.run { server in
            try server.turnUp("acme")
            try server.pool.withConnection { connection in
                let created = try WebhookEndpointStore.create(
                    clientId: "acme", try Self.input(#"{"url": "http://127.0.0.1:9/"}"#),
                    allowPrivateAddresses: true, by: Self.admin, on: connection)
                let id = created.endpoint.id
                let secret = try WebhookEndpointStore.rotateSecret(id, clientId: "acme", by: Self.admin, on: connection)
                #expect(secret.encoded != created.secret.encoded)
                let row = try connection.query("""
                    SELECT secret, previous_secret, previous_secret_expires_at - now() BETWEEN interval '23 hours 59 minutes' AND interval '24 hours' AS day
                    FROM webhook_endpoints WHERE id = \(id)
                    """)[0]
                #expect(try row.decode("secret", as: String.self) == secret.encoded)
                #expect(try row.decode("previous_secret", as: String?.self) == created.secret.encoded)
                #expect(try row.decode("day", as: Bool.self))
                #expect(try WebhookEndpointStore.require(id, clientId: "acme", on: connection).previousSecretExpiresAt != nil)
                #expect(throws: ReceiverError.self) {
                    try WebhookEndpointStore.rotateSecret(RecordID.make(), clientId: "acme", by: Self.admin, on: connection)
                }

                try connection.execute("""
                    INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body)
                    VALUES ('acme', \(id), \(RecordID.make()), 'prospect.created', \(RecordID.make()), now(), '{}')
                    """)
                try WebhookEndpointStore.delete(id, clientId: "acme", by: Self.admin, on: connection)
                #expect(throws: WebhookEndpointStore.unknownEndpoint(id.lowercasedString, clientId: "acme")) {
                    try WebhookEndpointStore.delete(id, clientId: "acme", by: Self.admin, on: connection)
                }
                for table in ["webhook_endpoints", "webhook_positions", "webhook_deliveries"] {
                    #expect(try connection.query("SELECT count(*) FROM \(identifier: table)")[0].decode(0, as: Int.self) == 0, "\(table)")
                }
                let actions = try AuditLog.list(clientId: "acme", after: nil, limit: 10, on: connection).map(\.action)
                #expect(actions.filter { $0.hasPrefix("webhook.") } == ["webhook.create", "webhook.rotate_secret", "webhook.delete"])
            }
        }
    }
}
