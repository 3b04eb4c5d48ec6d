import Foundation
import OutboundHTTP
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore

/// The delivery engine against a real PostgreSQL, a real receiving HTTP server and real
/// libcurl: fan-out that never skips, filters, signatures, claims shared by two engines,
/// per-record order, retries with Retry-After, 410, the warning before auto-disable, rate
/// limits and the address rule at connect time.
@Suite struct WebhookDeliveryEngineTests {
    static let prospect = #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Lovelace"}"#

    /// Settings for tests: loopback allowed, a compressed schedule, short waits.
    static func settings(_ adjust: (inout WebhookDeliveryEngine.Settings) -> Void = { _ in }) -> WebhookDeliveryEngine.Settings {
        var settings = WebhookDeliveryEngine.Settings()
        settings.allowPrivateAddresses = true
        settings.schedule = WebhookRetrySchedule(delays: [.zero, .milliseconds(200), .milliseconds(400), .milliseconds(800)], jitter: 0)
        settings.pollInterval = .milliseconds(20)
        settings.lease = .seconds(25)
        settings.transferTimeout = .seconds(5)
        adjust(&settings)
        return settings
    }

    static func withEngine<Result>(
        _ server: TestServer, _ settings: WebhookDeliveryEngine.Settings = settings(), _ body: (WebhookDeliveryEngine) throws -> Result
    ) throws -> Result {
        let engine = try WebhookDeliveryEngine(database: server.pool, settings: settings, logger: TestDatabase.logger)
        engine.start()
        defer { engine.stop(gracePeriod: .seconds(2)) }
        return try body(engine)
    }

    static func endpoint(_ server: TestServer, _ json: String, client: String = "acme") throws -> CreatedWebhookEndpoint {
        guard case .object(let body) = try JSONParser.parse(Array(json.utf8)) else { throw TestSetupError(description: "json") }
        return try server.pool.withConnection { connection in
            try WebhookEndpointStore.create(clientId: client, try WebhookEndpointInput.parse(body).validated(),
                                            allowPrivateAddresses: true, by: AuditContext(actor: "test"), on: connection)
        }
    }

    static func save(_ server: TestServer, _ auth: APICredentials, _ externalId: String, _ json: String = prospect, kind: String = "prospects") throws {
        let response = try server.request("PUT", "/v1/\(kind)/by-external-id/\(externalId)", json: json, auth: auth)
        try #require((200...201).contains(response.status), "\(response)")
    }

    static func verified(_ delivery: WebhookReceiver.Delivery, _ secret: WebhookSecret) -> Bool {
        WebhookSignature.verify(header: delivery.signature, id: delivery.webhookId, timestamp: delivery.timestamp, body: delivery.body, secret: secret)
    }

    static func rows(_ server: TestServer, _ sql: String) throws -> [PostgresRow] {
        try server.pool.withConnection { try Array($0.query(PostgresQuery(sql: sql))) }
    }

    @Test func everyEventIsDeliveredOnceSignedWithTheFeedsBodyAndLogged() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            try Self.withEngine(server) { _ in
                for index in 0..<20 { try Self.save(server, acme, "p-\(index)") }
                for index in 0..<10 { try Self.save(server, acme, "p-\(index)", #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Byron"}"#) }
                #expect(receiver.wait { $0.count >= 30 }, "\(receiver.received.count) of 30")
                Thread.sleep(forTimeInterval: 0.3)
            }
            let received = receiver.received
            #expect(received.count == 30, "each event once")
            #expect(Set(received.map(\.webhookId)).count == 30)
            for delivery in received {
                #expect(Self.verified(delivery, created.secret), "signature of \(delivery.webhookId)")
                #expect(delivery.contentType == "application/json")
                #expect(delivery.json?["id"]?.stringValue == delivery.webhookId)
                #expect(abs(delivery.timestamp - Int64(Date().timeIntervalSince1970)) < 60)
            }
            let feed = try ChangeFeedTests.readAll(server, acme, expecting: 30).events
            #expect(Dictionary(uniqueKeysWithValues: received.compactMap { d in d.json.map { (d.webhookId, $0) } })
                    == Dictionary(uniqueKeysWithValues: feed.map { ($0["id"]!.stringValue!, $0) }), "the bodies are the feed's events")
            let states = try Self.rows(server, "SELECT status, attempts, claimed_by IS NULL AS unclaimed FROM webhook_deliveries")
            #expect(states.count == 30)
            #expect(try states.allSatisfy { try $0.decode("status", as: String.self) == "succeeded" && $0.decode("attempts", as: Int.self) == 1 && $0.decode("unclaimed", as: Bool.self) })
            let attempts = try Self.rows(server, "SELECT status, error FROM webhook_attempts")
            #expect(try attempts.count == 30 && attempts.allSatisfy { try $0.decode("status", as: Int?.self) == 204 && $0.decode("error", as: String?.self) == nil })
            let endpoint = try server.pool.withConnection { try WebhookEndpointStore.require(created.endpoint.id, clientId: "acme", on: $0) }
            #expect(endpoint.lastSuccessAt != nil && endpoint.failingSince == nil)
        }
    }

    /// A commit wakes a pass only while some endpoint is enabled: without one, saves cost no
    /// pass each, and the poll still finds what comes.
    @Test func commitsWakeAPassOnlyWhileSomeEndpointIsEnabled() throws {
        func passes(afterWaking engine: WebhookDeliveryEngine) -> Int {
            let before = engine.passes
            for _ in 0..<20 {
                engine.wake()
                Thread.sleep(forTimeInterval: 0.02)
            }
            return engine.passes - before
        }
        // The first pass, and any a wake starts while it learns whether an endpoint is enabled.
        func firstPass(_ engine: WebhookDeliveryEngine) {
            let deadline = Date().addingTimeInterval(10)
            while engine.passes == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            Thread.sleep(forTimeInterval: 0.3)
        }
        let slowPoll = Self.settings { $0.pollInterval = .seconds(30) }
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.withEngine(server, slowPoll) { engine in
                firstPass(engine)
                #expect(passes(afterWaking: engine) == 0, "no endpoint: nothing to wake for")
            }
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            try Self.withEngine(server, slowPoll) { engine in
                firstPass(engine)
                #expect(passes(afterWaking: engine) >= 10, "an enabled endpoint: each wake runs a pass")
            }
            try server.pool.withConnection { connection in
                _ = try WebhookEndpointStore.update(created.endpoint.id, clientId: "acme", allowPrivateAddresses: true,
                                                    by: AuditContext(actor: "test"), on: connection) { current in
                    var input = WebhookEndpointInput(url: current.url)
                    input.enabled = false
                    return input
                }
            }
            try Self.withEngine(server, slowPoll) { engine in
                firstPass(engine)
                #expect(passes(afterWaking: engine) == 0, "only a disabled endpoint: nothing to send at once")
            }
        }
    }

    @Test func filtersChooseTypesAndClubsAndThePositionMovesPastTheRest() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url("members"))", "eventTypes": ["member.created"]}"#)
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url("club2"))", "clubIds": ["club-2"]}"#)
            try Self.withEngine(server) { _ in
                try Self.save(server, acme, "p-1")
                try Self.save(server, acme, "p-2", #"{"clubId": "club-2", "lastName": "Two"}"#)
                try Self.save(server, acme, "m-1", #"{"clubId": "club-1", "lastName": "Member"}"#, kind: "members")
                #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: acme).status == 201)
                #expect(receiver.wait { $0.count >= 2 })
                // Everything after the position is behind it: nothing more comes, nothing is pending.
                #expect(receiver.wait(timeout: .seconds(10)) { _ in
                    (try? Self.rows(server, """
                        SELECT count(*) FROM webhook_positions p
                        WHERE (p.pos_xid, p.seq) < (SELECT pos_xid, seq FROM events ORDER BY pos_xid DESC, seq DESC LIMIT 1)
                        """).first?.decode(0, as: Int.self)) == 0
                })
            }
            #expect(receiver.received(at: "members").compactMap { $0.json?["type"]?.stringValue } == ["member.created"])
            #expect(receiver.received(at: "club2").compactMap { $0.json?["clubId"]?.stringValue } == ["club-2"])
            #expect(try Self.rows(server, "SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'").first!.decode(0, as: Int.self) == 0)
        }
    }

    /// The change feed's horizon rule in fan-out: an event whose transaction began first and
    /// commits last is still delivered, once.
    @Test func fanOutNeverSkipsAnEventCommittedAfterLaterOnes() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            try Self.withEngine(server) { _ in
                let held = try PostgresConnection.connect(server.configuration)
                defer { held.close() }
                let input = try ProspectInput.parse(try #require(try JSONParser.parse(Array(#"{"clubId": "club-1", "firstName": "Held", "externalId": "t-1"}"#.utf8)).objectValue)).validated()
                try held.execute("BEGIN")
                _ = try PersonStore<Prospect>.write(clientId: "acme", id: RecordID.make(), input: input, current: nil, on: held)
                try Self.save(server, acme, "t-2")
                try Self.save(server, acme, "t-3")
                Thread.sleep(forTimeInterval: 0.5)
                #expect(receiver.received.isEmpty, "nothing past the open transaction is fanned out")
                try held.execute("COMMIT")
                #expect(receiver.wait { $0.count >= 3 })
                Thread.sleep(forTimeInterval: 0.3)
            }
            #expect(receiver.received.compactMap { $0.json?["data"]?.objectValue?["externalId"]?.stringValue }.sorted() == ["t-1", "t-2", "t-3"])
        }
    }

    /// Two engines on one database deliver everything once between them; a claim of an
    /// instance that died is taken over once its lease has lapsed.
    @Test func twoEnginesShareTheWorkAndALapsedClaimIsTakenOver() throws {
        try TestServer.run(poolSize: 12) { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            // A claim by an instance that is gone: its delivery waits for the lease.
            try Self.save(server, acme, "dead-1")
            // The cluster's horizon is shared with the tests running beside this one: fan out
            // until the event is below it.
            let claimedAt = Mutex(ContinuousClock.now)
            let deadClaim = try server.pool.withConnection { connection -> [ClaimedDelivery] in
                let deadline = ContinuousClock.now + .seconds(20)
                while try WebhookFanOut.run(try WebhookTarget.all(on: connection), pageSize: 100, on: connection, logger: TestDatabase.logger)
                    .deliveriesCreated == 0, ContinuousClock.now < deadline {
                    Thread.sleep(forTimeInterval: 0.05)
                }
                // Before the claim's statement: its lease runs from the database's clock during it.
                claimedAt.withLock { $0 = .now }
                return try WebhookClaims.claim([(created.endpoint.id, 10)], instance: "dead", lease: .seconds(2), on: connection)
            }
            #expect(deadClaim.count == 1)
            try Self.withEngine(server, Self.settings { $0.instance = "one" }) { _ in
                try Self.withEngine(server, Self.settings { $0.instance = "two" }) { _ in
                    DispatchQueue.concurrentPerform(iterations: 4) { writer in
                        for index in 0..<50 { try? Self.save(server, acme, "w\(writer)-\(index)") }
                    }
                    #expect(receiver.wait { $0.count >= 201 }, "\(receiver.received.count) of 201")
                    Thread.sleep(forTimeInterval: 0.5)
                }
            }
            let received = receiver.received
            #expect(received.count == 201)
            #expect(Set(received.map(\.webhookId)).count == 201, "no delivery sent twice")
            let dead = try #require(received.first { $0.webhookId == deadClaim[0].webhookId })
            #expect(dead.at - claimedAt.withLock { $0 } >= .seconds(2), "not before the dead instance's lease lapsed")
            #expect(try Self.rows(server, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").first!.decode(0, as: Int.self) == 201)
        }
    }

    /// A later event of a record waits while an earlier one is retried; other records pass.
    @Test func aRecordsLaterEventsWaitForItsEarlierOneWhileOthersFlowPast() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            // The first version of "slow" fails three times.
            receiver.respond { delivery, earlier in
                delivery.json?["data"]?.objectValue?["externalId"]?.stringValue == "slow" && delivery.record?.version == 1 && earlier < 3 ? (500, []) : (204, [])
            }
            try Self.withEngine(server) { _ in
                try Self.save(server, acme, "slow")
                for version in 2...4 { try Self.save(server, acme, "slow", #"{"clubId": "club-1", "lastName": "v\#(version)"}"#) }
                for index in 0..<5 { try Self.save(server, acme, "fast-\(index)") }
                #expect(receiver.wait { $0.filter { $0.json?["data"]?.objectValue?["externalId"]?.stringValue == "slow" }.count >= 7 })
                Thread.sleep(forTimeInterval: 0.3)
            }
            let slow = receiver.received.filter { $0.json?["data"]?.objectValue?["externalId"]?.stringValue == "slow" }
            #expect(slow.compactMap(\.record?.version) == [1, 1, 1, 1, 2, 3, 4], "retries of v1, then the rest in order")
            let fast = receiver.received.filter { $0.json?["data"]?.objectValue?["externalId"]?.stringValue?.hasPrefix("fast") == true }
            #expect(fast.count == 5)
            let firstSlowSuccess = slow[3].at
            #expect(fast.allSatisfy { $0.at < firstSlowSuccess }, "other records did not wait")
        }
    }

    @Test func retriesFollowTheScheduleHonourRetryAfterAndRunOut() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url("later"))"}"#)
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url("never"))"}"#)
            receiver.respond { delivery, earlier in
                delivery.path == "/never" ? (500, []) : earlier == 0 ? (503, [("Retry-After", "2")]) : (204, [])
            }
            try Self.withEngine(server) { _ in
                try Self.save(server, acme, "p-1")
                #expect(receiver.wait { $0.filter { $0.path == "/never" }.count >= 4 && $0.filter { $0.path == "/later" }.count >= 2 })
                Thread.sleep(forTimeInterval: 1.2)
            }
            let later = receiver.received(at: "later")
            #expect(later.count == 2)
            #expect(later[1].at - later[0].at >= .seconds(2), "Retry-After: 2 outweighs the schedule's 200 ms")
            #expect(later[0].webhookId == later[1].webhookId && later[0].body == later[1].body)
            let never = receiver.received(at: "never")
            #expect(never.count == 4, "the schedule's four attempts, then no more")
            let gaps = zip(never.dropFirst(), never).map { $0.at - $1.at }
            #expect(gaps[0] >= .milliseconds(200) && gaps[1] >= .milliseconds(400) && gaps[2] >= .milliseconds(800), "\(gaps)")
            let states = try Self.rows(server, """
                SELECT e.url, d.status, d.attempts, (SELECT array_agg(a.status ORDER BY a.attempt)::text FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.endpoint_id = d.endpoint_id) AS log
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id ORDER BY e.url
                """).map { (try $0.decode("url", as: String.self), try $0.decode("status", as: String.self), try $0.decode("attempts", as: Int.self), try $0.decode("log", as: String.self)) }
            #expect(states.count == 2)
            #expect(states[0].1 == "succeeded" && states[0].2 == 2 && states[0].3 == "{503,204}", "\(states[0])")
            #expect(states[1].1 == "failed" && states[1].2 == 4 && states[1].3 == "{500,500,500,500}", "\(states[1])")
        }
    }

    @Test func a410DisablesTheEndpointAtOnceAndReEnablingResumesFromTheFirstUndelivered() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            let gone = Atomic(true)
            receiver.respond { _, _ in gone.load(ordering: .relaxed) ? (410, []) : (204, []) }
            try Self.withEngine(server) { _ in
                try Self.save(server, acme, "p-1")
                #expect(receiver.wait { $0.count >= 1 })
                Thread.sleep(forTimeInterval: 0.3)
                for index in 2...4 { try Self.save(server, acme, "p-\(index)") }
                Thread.sleep(forTimeInterval: 0.5)
                #expect(receiver.received.count == 1, "nothing more goes to a disabled endpoint")
                let disabled = try server.pool.withConnection { try WebhookEndpointStore.require(created.endpoint.id, clientId: "acme", on: $0) }
                #expect(!disabled.enabled && disabled.disabledReason == .gone)
                let audit = try server.pool.withConnection { try AuditLog.list(clientId: "acme", after: nil, limit: 20, on: $0) }
                #expect(audit.contains { $0.action == "webhook.disable" && $0.actor == "webhook-engine" && $0.changes["disabledReason"]?.stringValue == "gone" })
                // Fanned out while disabled (the horizon is shared with the tests beside this one: wait for it).
                #expect(receiver.wait(timeout: .seconds(20)) { _ in
                    (try? Self.rows(server, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'").first?.decode(0, as: Int.self)) == 4
                })
                #expect(receiver.received.count == 1)

                gone.store(false, ordering: .relaxed)
                _ = try server.pool.withConnection { connection in
                    try WebhookEndpointStore.update(created.endpoint.id, clientId: "acme", allowPrivateAddresses: true, by: AuditContext(actor: "test"), on: connection) { current in
                        var input = try WebhookEndpointInput.parse(patch: [:], over: current).validated()
                        input.enabled = true
                        return input
                    }
                }
                #expect(receiver.wait { $0.count >= 5 })
                Thread.sleep(forTimeInterval: 0.3)
            }
            let ids = receiver.received.compactMap { $0.json?["data"]?.objectValue?["externalId"]?.stringValue }
            // Different records: sent together, in any order; the 410'd event once more.
            #expect(ids.first == "p-1" && ids.sorted() == ["p-1", "p-1", "p-2", "p-3", "p-4"], "\(ids)")
        }
    }

    @Test func anEndpointFailingLongEnoughIsWarnedThenDisabled() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            receiver.respond { _, _ in (500, []) }
            let settings = Self.settings {
                $0.disableAfter = .seconds(2)
                $0.schedule = WebhookRetrySchedule(delays: [.zero] + Array(repeating: .milliseconds(300), count: 30), jitter: 0)
            }
            try Self.withEngine(server, settings) { _ in
                try Self.save(server, acme, "p-1")
                let disabled = receiver.wait(timeout: .seconds(15)) { _ in
                    (try? server.pool.withConnection { try WebhookEndpointStore.require(created.endpoint.id, clientId: "acme", on: $0) })?.enabled == false
                }
                #expect(disabled)
            }
            let endpoint = try server.pool.withConnection { try WebhookEndpointStore.require(created.endpoint.id, clientId: "acme", on: $0) }
            #expect(endpoint.disabledReason == .failing)
            let failingSince = try #require(endpoint.failingSince)
            let warnedAt = try #require(endpoint.warnedAt)
            let disabledAt = try #require(endpoint.disabledAt)
            #expect(warnedAt.timeIntervalSince(failingSince) >= 1 && warnedAt < disabledAt)
            #expect(disabledAt.timeIntervalSince(failingSince) >= 2)
            let actions = try server.pool.withConnection { try AuditLog.list(clientId: "acme", after: nil, limit: 20, on: $0) }
                .filter { $0.actor == "webhook-engine" }.map(\.action)
            #expect(actions == ["webhook.disable_warning", "webhook.disable"])
        }
    }

    @Test func aRateLimitSpreadsDeliveriesOut() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url())", "rateLimit": 5}"#)
            for index in 0..<15 { try Self.save(server, acme, "p-\(index)") }
            try Self.withEngine(server) { _ in
                #expect(receiver.wait(timeout: .seconds(20)) { $0.count >= 15 })
            }
            let times = receiver.received.map(\.at)
            #expect(times.count == 15)
            // A bucket of one second's worth: 5 at once, then 5 a second.
            #expect(times[14] - times[0] >= .milliseconds(1800), "\(times[14] - times[0])")
            for (index, time) in times.enumerated() {
                let inWindow = times[index...].prefix { $0 - time < .seconds(1) }.count
                #expect(inWindow <= 10, "at most a burst and a second's rate in any second")
            }
        }
    }

    @Test func aLoopbackAddressIsRefusedAtConnectUnlessAllowed() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            _ = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            try Self.withEngine(server, Self.settings { $0.allowPrivateAddresses = false }) { _ in
                try Self.save(server, acme, "p-1")
                let logged = receiver.wait(timeout: .seconds(10)) { _ in
                    ((try? Self.rows(server, "SELECT count(*) FROM webhook_attempts").first?.decode(0, as: Int.self)) ?? 0) >= 2
                }
                #expect(logged)
            }
            #expect(receiver.received.isEmpty, "no connection reached the loopback receiver")
            let errors = try Self.rows(server, "SELECT status, error FROM webhook_attempts").map { try $0.decode("error", as: String?.self) ?? "" }
            #expect(errors.allSatisfy { $0.contains("127.0.0.1 (loopback)") }, "\(errors)")

            try Self.withEngine(server) { _ in
                #expect(receiver.wait { $0.count >= 1 }, "allowed: delivered")
            }
        }
    }

    @Test func duringASecretRotationBothSecretsSign() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let receiver = try WebhookReceiver()
            let created = try Self.endpoint(server, #"{"url": "\#(receiver.url())"}"#)
            try Self.withEngine(server) { _ in
                try Self.save(server, acme, "p-1")
                #expect(receiver.wait { $0.count >= 1 })
                let rotated = try server.pool.withConnection {
                    try WebhookEndpointStore.rotateSecret(created.endpoint.id, clientId: "acme", by: AuditContext(actor: "test"), on: $0)
                }
                try Self.save(server, acme, "p-2")
                #expect(receiver.wait { $0.count >= 2 })
                let before = receiver.received[0], after = receiver.received[1]
                #expect(Self.verified(before, created.secret) && !Self.verified(before, rotated))
                #expect(Self.verified(after, created.secret) && Self.verified(after, rotated))
                #expect(after.signature.split(separator: " ").count == 2)
                // Once the overlap ends only the new secret signs.
                try server.pool.withConnection { try $0.execute("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second'") }
                try Self.save(server, acme, "p-3")
                #expect(receiver.wait { $0.count >= 3 })
                let last = receiver.received[2]
                #expect(Self.verified(last, rotated) && !Self.verified(last, created.secret))
            }
        }
    }
}
