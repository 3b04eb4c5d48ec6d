import Foundation
import Postgres
import TestSupport
import Testing

/// `connector-receiver turnup webhook …` as an operator runs it, on a fresh database of the
/// test cluster per test.
@Suite struct TurnupWebhookCommandTests {
    static let allowPrivate = "--webhook-allow-private-addresses"

    @Test func endpointsAreAddedShownChangedRotatedAndDeleted() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let none = try database.run(["turnup", "webhook", "list", "acme"])
            #expect(none.status == 0)
            #expect(none.output.contains("acme has no webhook endpoints") && none.output.contains("turnup webhook add acme --url"), "\(none.output)")

            let added = try database.run([
                "turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/hook", "--description", "Club CRM",
                "--event-type", "prospect.created", "--event-type", "member.created", "--club", "club-001", "--rate-limit", "20",
                Self.allowPrivate,
            ])
            #expect(added.status == 0, "\(added.output)")
            let id = try #require(added.output.split(separator: "\n").first?.split(separator: " ").dropFirst(3).first.map(String.init))
            #expect(added.output.hasPrefix("Added webhook endpoint \(id) to client acme."), "\(added.output)")
            #expect(added.output.contains("URL:           http://127.0.0.1:9/hook"))
            #expect(added.output.contains("Event types:   prospect.created, member.created"))
            #expect(added.output.contains("Clubs:         club-001"))
            #expect(added.output.contains("Rate limit:    20 a second"))
            let secret = try #require(TurnupDatabase.field("Secret", in: added.output))
            #expect(secret.hasPrefix("whsec_") && secret.count > 40)
            #expect(added.output.contains("shown only this once; it will not be shown again"))
            #expect(added.output.contains("turnup webhook rotate-secret acme \(id)"))

            let second = try database.json(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/other", "--disabled", Self.allowPrivate, "--json"])
            let secondId = try #require(second["id"] as? String)
            #expect((second["secret"] as? String)?.hasPrefix("whsec_") == true)
            #expect(second["enabled"] as? Bool == false && second["disabledReason"] as? String == "admin")

            let list = try database.run(["turnup", "webhook", "list", "acme"])
            #expect(list.status == 0)
            let lines = list.output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("ID") == true, "\(list.output)")
            #expect(lines.contains { $0.hasPrefix(id) && $0.contains("on") && $0.contains("never") && $0.hasSuffix("http://127.0.0.1:9/hook") }, "\(list.output)")
            #expect(lines.contains { $0.hasPrefix(secondId) && $0.contains("off (admin)") }, "\(list.output)")
            let listed = try database.json(["turnup", "webhook", "list", "acme", "--json"])
            #expect((listed["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id, secondId])

            let shown = try database.run(["turnup", "webhook", "show", "acme", id])
            #expect(shown.status == 0)
            #expect(shown.output.contains("Webhook endpoint \(id)") && shown.output.contains("Last success:  never"), "\(shown.output)")
            #expect(try database.json(["turnup", "webhook", "show", "acme", id, "--json"])["description"] as? String == "Club CRM")

            let updated = try database.run(["turnup", "webhook", "update", "acme", id, "--all-event-types", "--no-rate-limit", "--clear-description"])
            #expect(updated.status == 0, "\(updated.output)")
            #expect(updated.output.contains("Updated webhook endpoint \(id)."))
            #expect(updated.output.contains("Event types:   all") && updated.output.contains("Rate limit:    none") && updated.output.contains("Description:   -"))
            let disabled = try database.run(["turnup", "webhook", "update", "acme", id, "--disable"])
            #expect(disabled.output.contains("Disabled webhook endpoint \(id)") && disabled.output.contains("off (admin)"), "\(disabled.output)")
            let enabled = try database.run(["turnup", "webhook", "update", "acme", id, "--enable"])
            #expect(enabled.output.contains("Enabled webhook endpoint \(id): it resumes from its first undelivered event."), "\(enabled.output)")
            let again = try database.run(["turnup", "webhook", "update", "acme", id, "--enable"])
            #expect(again.output.contains("already had these settings; nothing changed"), "\(again.output)")

            let rotated = try database.run(["turnup", "webhook", "rotate-secret", "acme", id])
            #expect(rotated.status == 0, "\(rotated.output)")
            let newSecret = try #require(TurnupDatabase.field("Secret", in: rotated.output))
            #expect(newSecret.hasPrefix("whsec_") && newSecret != secret)
            #expect(rotated.output.contains("it will not be shown again") && rotated.output.contains("24 hours"))
            let rotatedJSON = try database.json(["turnup", "webhook", "rotate-secret", "acme", secondId, "--json"])
            #expect(Array(rotatedJSON.keys) == ["secret"])
            #expect(try database.run(["turnup", "webhook", "show", "acme", id]).output.contains("Old secret:    signs too until"))

            for read in [try database.run(["turnup", "webhook", "list", "acme", "--json"]).output,
                         try database.run(["turnup", "webhook", "show", "acme", id]).output,
                         try database.run(["turnup", "webhook", "show", "acme", id, "--json"]).output,
                         try database.run(["turnup", "audit", "acme", "--json"]).output] {
                #expect(!read.contains("whsec_") && !read.contains(secret) && !read.contains(newSecret), "\(read)")
            }

            let deleted = try database.run(["turnup", "webhook", "delete", "acme", id])
            #expect(deleted.status == 0, "\(deleted.output)")
            #expect(deleted.output.contains("Deleted webhook endpoint \(id) of client acme"))
            #expect((try database.json(["turnup", "webhook", "list", "acme", "--json"])["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [secondId])

            let audit = try database.json(["turnup", "audit", "acme", "--json"])
            let events = try #require(audit["items"] as? [[String: Any]])
            #expect(events.map { $0["action"] as? String } == [
                "client.create", "webhook.create", "webhook.create", "webhook.update", "webhook.update", "webhook.update",
                "webhook.rotate_secret", "webhook.rotate_secret", "webhook.delete",
            ])
            #expect(events.dropFirst().allSatisfy { ($0["actor"] as? String)?.hasPrefix("cli:") == true })
        }
    }

    @Test func theDeliveryLogResendAndRecoverWorkOnTheEnginesRows() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let added = try database.json(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/hook", Self.allowPrivate, "--json"])
            let id = try #require(added["id"] as? String)
            #expect(try database.run(["turnup", "webhook", "deliveries", "acme", id]).output.contains("No deliveries."))

            // Two deliveries as the engine leaves them: one given up after failing, one delivered.
            let (failed, succeeded) = (UUID(), UUID())
            let connection = try PostgresConnection.connect(try PostgresConfiguration(url: database.url), logger: TestDatabase.logger)
            defer { connection.close() }
            let endpointId = try #require(UUID(uuidString: id))
            for (event, status, httpStatus, error) in [(failed, "failed", 500, "answered 500"), (succeeded, "succeeded", 204, "")] {
                try connection.execute("""
                    WITH d AS (
                        INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body, status,
                                                        attempts, schedule_step, finished_at)
                        VALUES ('acme', \(endpointId), \(event), 'prospect.created', \(UUID()), now(), '{}', \(status), 1, 1, now())
                        RETURNING id
                    )
                    INSERT INTO webhook_attempts (endpoint_id, delivery_id, attempt, at, status, latency_ms, error)
                    SELECT \(endpointId), id, 1, now() - interval '1 minute', \(httpStatus), 35, nullif(\(error), '') FROM d
                    """)
            }
            let failedId = "evt_" + failed.uuidString.lowercased(), succeededId = "evt_" + succeeded.uuidString.lowercased()

            let log = try database.run(["turnup", "webhook", "deliveries", "acme", id])
            #expect(log.status == 0, "\(log.output)")
            let lines = log.output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("AT") == true, "\(log.output)")
            #expect(lines.count == 3)
            #expect(lines[1].contains(succeededId) && lines[1].contains("204") && lines[1].contains("35 ms") && lines[1].contains("succeeded"), "\(log.output)")
            #expect(lines[2].contains(failedId) && lines[2].contains("500") && lines[2].hasSuffix("answered 500"), "\(log.output)")
            let onlyFailed = try database.json(["turnup", "webhook", "deliveries", "acme", id, "--status", "failed", "--json"])
            #expect((onlyFailed["items"] as? [[String: Any]])?.map { $0["eventId"] as? String } == [failedId])
            let firstPage = try database.run(["turnup", "webhook", "deliveries", "acme", id, "--limit", "1"])
            #expect(firstPage.output.contains("More: connector-receiver turnup webhook deliveries acme \(id) --limit 1 --cursor "), "\(firstPage.output)")
            let cursor = try #require(firstPage.output.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            let secondPage = try database.json(["turnup", "webhook", "deliveries", "acme", id, "--limit", "1", "--cursor", cursor, "--json"])
            #expect((secondPage["items"] as? [[String: Any]])?.map { $0["eventId"] as? String } == [failedId])
            #expect(secondPage["nextCursor"] is NSNull)

            let recovered = try database.run(["turnup", "webhook", "recover", "acme", id, "--since", "2000-01-01T00:00:00Z"])
            #expect(recovered.status == 0, "\(recovered.output)")
            #expect(recovered.output.contains("Sending 1 delivery to webhook endpoint \(id) again now."), "\(recovered.output)")
            let nothing = try database.json(["turnup", "webhook", "recover", "acme", id, "--since", Self.inAMinute(), "--json"])
            #expect(nothing["deliveries"] as? Int == 0)
            let resent = try database.run(["turnup", "webhook", "resend", "acme", id, succeededId])
            #expect(resent.status == 0, "\(resent.output)")
            #expect(resent.output.contains("Resending \(succeededId) to webhook endpoint \(id) now."))
            #expect(resent.output.contains("turnup webhook deliveries acme \(id) --event \(succeededId)"))

            let states = try connection.query("""
                SELECT event_id, status, schedule_step, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE endpoint_id = \(endpointId)
                """)
            #expect(states.count == 2)
            for row in states {
                #expect(try row.decode("status", as: String.self) == "pending")
                #expect(try row.decode("schedule_step", as: Int.self) == 0)
                #expect(try row.decode("due", as: Bool.self))
            }
            let audit = try database.json(["turnup", "audit", "acme", "--json"])
            #expect((audit["items"] as? [[String: Any]])?.suffix(3).map { $0["action"] as? String } == ["webhook.recover", "webhook.recover", "webhook.resend"])
        }
    }

    @Test func mistakesAreReportedWithWhatToDo() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let privateURL = try database.run(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/hook"])
            #expect(privateURL.status != 0)
            #expect(privateURL.output.contains("--url:") && privateURL.output.contains("--webhook-allow-private-addresses"), "\(privateURL.output)")
            let withEnvironment = try Executable.run(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/hook", "--json"],
                                                     environment: ["DATABASE_URL": database.url, "RECEIVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "on"])
            #expect(withEnvironment.status == 0, "the environment allows it too: \(withEnvironment.output)")
            let id = try #require((try JSONSerialization.jsonObject(with: Data(withEnvironment.output.utf8)) as? [String: Any])?["id"] as? String)

            let badType = try database.run(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/", "--event-type", "prospect.deleted", Self.allowPrivate])
            #expect(badType.output.contains("--event-type: has unknown event types prospect.deleted"), "\(badType.output)")
            let badClub = try database.run(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/", "--club", "club-009", Self.allowPrivate])
            #expect(badClub.output.contains("--club: client acme has no club club-009"), "\(badClub.output)")
            let capitals = try database.json(["turnup", "webhook", "add", "acme", "--url", "HTTP://127.0.0.1:9/Hook", Self.allowPrivate, "--json"])
            #expect(capitals["url"] as? String == "http://127.0.0.1:9/Hook")
            #expect(try database.run(["turnup", "webhook", "delete", "acme", try #require(capitals["id"] as? String)]).status == 0)
            let badScheme = try database.run(["turnup", "webhook", "add", "acme", "--url", "ftp://example.com/", Self.allowPrivate])
            #expect(badScheme.output.contains("--url: must be an http:// or https:// URL"), "\(badScheme.output)")
            let badRate = try database.run(["turnup", "webhook", "add", "acme", "--url", "http://127.0.0.1:9/", "--rate-limit", "0", Self.allowPrivate])
            #expect(badRate.output.contains("--rate-limit:"), "\(badRate.output)")

            let nothing = try database.run(["turnup", "webhook", "update", "acme", id])
            #expect(nothing.status != 0 && nothing.output.contains("Nothing to change"), "\(nothing.output)")
            let both = try database.run(["turnup", "webhook", "update", "acme", id, "--enable", "--disable"])
            #expect(both.status != 0 && both.output.contains("--enable and --disable"), "\(both.output)")
            let badStatus = try database.run(["turnup", "webhook", "deliveries", "acme", id, "--status", "done"])
            #expect(badStatus.status != 0 && badStatus.output.contains("pending, succeeded or failed"), "\(badStatus.output)")
            let badSince = try database.run(["turnup", "webhook", "recover", "acme", id, "--since", "yesterday"])
            #expect(badSince.status != 0 && badSince.output.contains("--since: must be an RFC 3339 timestamp"), "\(badSince.output)")
            let unknownEvent = try database.run(["turnup", "webhook", "resend", "acme", id, "evt_\(UUID().uuidString.lowercased())"])
            #expect(unknownEvent.status != 0 && unknownEvent.output.contains("No delivery of event"), "\(unknownEvent.output)")

            #expect(try database.run(["turnup", "webhook", "update", "acme", id, "--disable"]).status == 0)
            let disabled = try database.run(["turnup", "webhook", "recover", "acme", id, "--since", "2000-01-01T00:00:00Z"])
            #expect(disabled.status != 0 && disabled.output.contains("is disabled (by an admin)") && disabled.output.contains("Enable it first"), "\(disabled.output)")

            for arguments in [["show", "acme", UUID().uuidString.lowercased()], ["delete", "acme", "not-an-id"],
                              ["rotate-secret", "acme", UUID().uuidString.lowercased()], ["deliveries", "acme", "x"]] {
                let unknown = try database.run(["turnup", "webhook"] + arguments)
                #expect(unknown.status != 0)
                #expect(unknown.output.contains("No webhook endpoint \(arguments[2]) at client acme") && unknown.output.contains("turnup webhook list acme"),
                        "\(arguments): \(unknown.output)")
            }
            for arguments in [["list", "nobody"], ["show", "nobody", UUID().uuidString.lowercased()], ["add", "nobody", "--url", "http://127.0.0.1:9/", Self.allowPrivate]] {
                let unknown = try database.run(["turnup", "webhook"] + arguments)
                #expect(unknown.status != 0)
                #expect(unknown.output.contains("No client nobody") && unknown.output.contains("turnup list"), "\(arguments): \(unknown.output)")
            }
            let actions = (try database.json(["turnup", "audit", "acme", "--json"])["items"] as? [[String: Any]])?.map { $0["action"] as? String }
            #expect(actions == ["client.create", "webhook.create", "webhook.create", "webhook.delete", "webhook.update"], "only what succeeded was done")
        }
    }

    static func inAMinute() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date().addingTimeInterval(60))
    }

    @Test(arguments: [
        (["turnup", "--help"], ["webhook"]),
        (["turnup", "webhook", "--help"], ["add", "list", "show", "update", "delete", "rotate-secret", "deliveries", "resend", "recover",
                                            "Standard Webhooks", "--webhook-allow-private-addresses", "Example"]),
        (["turnup", "webhook", "add", "--help"], ["<client-id>", "--url", "--event-type", "--club", "--rate-limit", "--secret", "--disabled",
                                                   "--webhook-allow-private-addresses", "prospect.created", "once", "--json"]),
        (["turnup", "webhook", "list", "--help"], ["<client-id>", "FAILING SINCE", "410", "--json"]),
        (["turnup", "webhook", "show", "--help"], ["<client-id>", "<id>", "never the secret"]),
        (["turnup", "webhook", "update", "--help"], ["--enable", "--disable", "--all-event-types", "--all-clubs", "--no-rate-limit", "undelivered"]),
        (["turnup", "webhook", "delete", "--help"], ["<client-id>", "<id>", "disable it instead"]),
        (["turnup", "webhook", "rotate-secret", "--help"], ["24 hours", "once"]),
        (["turnup", "webhook", "deliveries", "--help"], ["--status", "pending", "succeeded", "failed", "--event", "--limit", "--cursor"]),
        (["turnup", "webhook", "resend", "--help"], ["<event-id>", "webhook-id", "enabled"]),
        (["turnup", "webhook", "recover", "--help"], ["--since", "RFC 3339", "outage"]),
    ])
    func everyWebhookSubcommandHasHelp(arguments: [String], expected: [String]) throws {
        let result = try Executable.run(arguments)
        #expect(result.status == 0)
        for text in expected {
            #expect(result.output.contains(text), "\(arguments.joined(separator: " ")) help lacks \(text)")
        }
    }
}
