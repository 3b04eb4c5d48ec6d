import Foundation
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The admin API driving the real delivery engine: an endpoint created, disabled and
/// re-enabled, its secret rotated, its log read, and resend and recover, all through
/// `/admin/v1`, with real libcurl deliveries to a real receiving server on loopback.
@Suite struct WebhookAdminDeliveryTests {
    static func run(_ body: (TestServer, APICredentials, WebhookReceiver) throws -> Void) throws {
        try WebhookAdminTests.run { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let receiver = try WebhookReceiver()
            try WebhookDeliveryEngineTests.withEngine(server) { _ in try body(server, connector, receiver) }
        }
    }

    static func log(_ server: TestServer, _ id: String, _ query: String = "") throws -> APIResponse {
        let log = try server.admin("GET", "/clients/acme/webhook-endpoints/\(id)/deliveries" + query)
        #expect(log.status == 200, "\(log)")
        return log
    }

    /// Waits until the endpoint's log shows `condition`.
    static func waitForLog(_ server: TestServer, _ id: String, timeout: Duration = .seconds(30), until condition: (APIResponse) -> Bool) throws -> APIResponse {
        let deadline = ContinuousClock.now + timeout
        var log = try Self.log(server, id)
        while !condition(log) && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            log = try Self.log(server, id)
        }
        return log
    }

    @Test func resendDeliversTheSameEventAgainAndTheLogShowsBothAttempts() throws {
        try Self.run { server, connector, receiver in
            let (id, secretText) = try WebhookAdminTests.create(server, "acme", #"{"url": "\#(receiver.url())"}"#)
            let secret = try WebhookSecret(parsing: secretText)
            try WebhookDeliveryEngineTests.save(server, connector, "p-1")
            #expect(receiver.wait { $0.count == 1 })
            let first = try #require(receiver.received.first)
            #expect(WebhookDeliveryEngineTests.verified(first, secret))
            let logged = try Self.waitForLog(server, id) { $0.itemValues("deliveryStatus") == [.string("succeeded")] }
            #expect(logged.itemValues("eventId") == [.string(first.webhookId)], "\(logged)")
            #expect(logged.itemValues("attempt") == [.number(1)] && logged.itemValues("status") == [.number(204)])
            #expect(logged.itemValues("latencyMs").first.flatMap { if case .number(let ms) = $0 { ms >= 0 } else { false } } == true)

            let resent = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/deliveries/\(first.webhookId)/resend")
            #expect(resent.status == 202, "\(resent)")
            #expect(receiver.wait { $0.count == 2 }, "sent again now")
            let again = try #require(receiver.received.last)
            #expect(again.webhookId == first.webhookId, "the same webhook-id")
            #expect(again.body == first.body, "the same event")
            #expect(WebhookDeliveryEngineTests.verified(again, secret))
            let both = try Self.waitForLog(server, id) { $0.items.count == 2 && $0.itemValues("deliveryStatus").first == .string("succeeded") }
            #expect(both.itemValues("attempt") == [.number(2), .number(1)], "\(both)")
            #expect(both.itemValues("status") == [.number(204), .number(204)])
        }
    }

    @Test func recoverSendsAgainWhatFailedDuringAnOutage() throws {
        try Self.run { server, connector, receiver in
            let (id, _) = try WebhookAdminTests.create(server, "acme", #"{"url": "\#(receiver.url())"}"#)
            let outageStart = Date()
            receiver.respond { _, _ in (503, []) }
            for index in 0..<3 { try WebhookDeliveryEngineTests.save(server, connector, "p-\(index)") }
            // The test schedule has 4 attempts, 1.4 s in all: then each delivery is failed.
            let failed = try Self.waitForLog(server, id) { log in
                log.itemValues("deliveryStatus").allSatisfy { $0 == .string("failed") } && Set(log.itemValues("eventId").compactMap(\.stringValue)).count == 3
            }
            #expect(failed.items.count == 12, "4 attempts of 3 events: \(failed)")
            #expect(failed.itemValues("status").allSatisfy { $0 == .number(503) })
            #expect(try Self.log(server, id, "?status=failed").items.count == 12)
            #expect(try Self.log(server, id, "?status=succeeded").items.isEmpty)
            let events = Set(receiver.received.map(\.webhookId))
            #expect(events.count == 3)

            receiver.respond { _, _ in (204, []) }
            let recovered = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/recover",
                                             json: #"{"since": "\#(Timestamp.format(outageStart))"}"#)
            #expect(recovered.status == 202, "\(recovered)")
            #expect(recovered["deliveries"] == .number(3))
            #expect(receiver.wait { received in received.filter { $0.path == "/hook" }.count == 15 }, "each sent once more: \(receiver.received.count)")
            let delivered = try Self.waitForLog(server, id) { $0.itemValues("deliveryStatus").allSatisfy { $0 == .string("succeeded") } }
            #expect(Set(delivered.itemValues("eventId").compactMap(\.stringValue)) == events)
            let latest = try Self.log(server, id, "?status=succeeded&limit=500")
            #expect(latest.items.filter { $0.objectValue?["status"] == .number(204) }.count == 3)
            #expect(latest.items.filter { $0.objectValue?["attempt"] == .number(5) }.count == 3, "the log counts on from the failed attempts")
        }
    }

    @Test func aDisabledEndpointKeepsItsEventsAndReEnablingThroughTheAPIDeliversThem() throws {
        try Self.run { server, connector, receiver in
            let (id, secretText) = try WebhookAdminTests.create(server, "acme", #"{"url": "\#(receiver.url())", "enabled": false}"#)
            for index in 0..<3 { try WebhookDeliveryEngineTests.save(server, connector, "p-\(index)") }
            let waiting = try Self.waitForLog(server, id) { $0.items.count == 3 }
            #expect(waiting.itemValues("deliveryStatus") == Array(repeating: .string("pending"), count: 3), "\(waiting)")
            #expect(waiting.itemValues("attempt") == [.null, .null, .null], "not attempted while disabled")
            #expect(receiver.received.isEmpty)
            let resend = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/deliveries/\(try #require(waiting.itemValues("eventId").first?.stringValue))/resend")
            #expect(resend.status == 409, "\(resend)")

            let enabled = try server.admin("PATCH", "/clients/acme/webhook-endpoints/\(id)", json: #"{"enabled": true}"#)
            #expect(enabled.status == 200 && enabled["enabled"] == .bool(true), "\(enabled)")
            #expect(receiver.wait { $0.count == 3 }, "resumed from the first undelivered event")
            let secret = try WebhookSecret(parsing: secretText)
            #expect(receiver.received.allSatisfy { WebhookDeliveryEngineTests.verified($0, secret) })
            let read = try Self.waitForLog(server, id) { $0.itemValues("deliveryStatus").allSatisfy { $0 == .string("succeeded") } }
            #expect(read.items.count == 3)
            let endpoint = try server.admin("GET", "/clients/acme/webhook-endpoints/\(id)")
            #expect(endpoint["lastSuccessAt"]?.stringValue.flatMap(Timestamp.parse) != nil, "\(endpoint)")
            #expect(endpoint["failingSince"] == .null)
        }
    }

    @Test func afterARotationThroughTheAPIDeliveriesVerifyWithTheOldAndTheNewSecret() throws {
        try Self.run { server, connector, receiver in
            let (id, oldText) = try WebhookAdminTests.create(server, "acme", #"{"url": "\#(receiver.url())"}"#)
            let rotated = try server.admin("POST", "/clients/acme/webhook-endpoints/\(id)/secret")
            let newSecret = try WebhookSecret(parsing: try #require(rotated.string("secret"), "\(rotated)"))
            let oldSecret = try WebhookSecret(parsing: oldText)
            try WebhookDeliveryEngineTests.save(server, connector, "p-1")
            #expect(receiver.wait { $0.count == 1 })
            let delivery = try #require(receiver.received.first)
            #expect(delivery.signature.split(separator: " ").count == 2, "\(delivery.signature)")
            #expect(WebhookDeliveryEngineTests.verified(delivery, oldSecret))
            #expect(WebhookDeliveryEngineTests.verified(delivery, newSecret))
        }
    }
}
