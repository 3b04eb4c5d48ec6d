import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Each client's connection health (the console's badge) and the
/// troubleshooting causes, from real `/v1` calls.
@Suite struct ConsoleHealthTests {
    @Test func aClientThatNeverCalledIsNever() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let health = try server.admin("GET", "/clients/acme/health")
            #expect(health.status == 200, "\(health)")
            #expect(health.string("state") == "never")
            #expect(health["lastSuccessAt"] == .null && health["lastFailureAt"] == .null)
            #expect(health.value("openSyncErrors")?.numberValue == 0)
            #expect(health.string("credentialIssuedAt") != nil)
            let causes = try #require(health["troubleshooting"]?.arrayValue)
            #expect(causes.compactMap { $0.objectValue?["applies"] } == [.bool(false), .bool(false), .bool(false)])
            #expect(try server.admin("GET", "/clients/nobody/health").status == 404)
        }
    }

    @Test func successesAndFailuresAreNotedWithoutAWritePerCall() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let reader = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "CRM"}"#)
            let readerCredentials = APICredentials(username: reader.string("username")!, password: reader.string("password")!)

            // A save (batched), a read: successes. Then the club is switched off and a save to it fails.
            let save = #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Lovelace"}"#
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-1", json: save, auth: connector).status == 201)
            #expect(try server.request("GET", "/v1/lead-sources", auth: connector).status == 200)
            // None of it was written yet: the calls wait in memory for a flush.
            #expect(try Self.storedRows(server) == 0)

            var health = try server.admin("GET", "/clients/acme/health")
            #expect(health.string("state") == "connected")
            let firstSuccess = try #require(health.string("lastSuccessAt"))
            #expect(health["lastFailureAt"] == .null)
            #expect(try Self.storedRows(server) == 1, "the admin read wrote this instance's calls first")

            #expect(try server.admin("PUT", "/clients/acme/clubs/club-1", json: #"{"name": "Downtown", "enabled": false}"#).status == 200)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-2", json: save, auth: connector).status == 422)
            // A reader's calls, even failing, are not the Connector's.
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: readerCredentials).status == 403)
            #expect(try server.request("GET", "/v1/lead-sources", auth: readerCredentials).status == 200)

            health = try server.admin("GET", "/clients/acme/health")
            #expect(health.string("state") == "failing")
            #expect(health.value("lastFailureStatus")?.numberValue == 422)
            #expect(health.value("openSyncErrors")?.numberValue == 1)
            #expect(health.string("lastSuccessAt") == firstSuccess, "the reader's success is not the Connector's")
            #expect(Self.cause("disabled-club", in: health)?["applies"] == .bool(true))
            #expect(Self.cause("disabled-club", in: health)?["detail"]?.stringValue?.contains("club-1") == true)

            // The list carries the same health.
            let list = try server.admin("GET", "/clients")
            #expect(list.value("items.0.health.state")?.stringValue == "failing")
            #expect(list.value("items.0.health.openSyncErrors")?.numberValue == 1)

            // Switched on again, the corrected save resolves the sync error: green.
            #expect(try server.admin("PUT", "/clients/acme/clubs/club-1", json: #"{"name": "Downtown", "enabled": true}"#).status == 200)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-2", json: save, auth: connector).status == 201)
            health = try server.admin("GET", "/clients/acme/health")
            #expect(health.string("state") == "connected", "\(health)")
            #expect(health.value("openSyncErrors")?.numberValue == 0)
        }
    }

    @Test func readsOfOneRecordByIdCountAsCallsToo() throws {
        // GET …/{id} runs in batches on the read lanes, not through the endpoint's handler
        // wrapper: its calls must reach the recorder all the same.
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let id = UUID().uuidString.lowercased()
            // A 404 answers about a record: the connection and the credential worked.
            #expect(try server.request("GET", "/v1/prospects/\(id)", auth: connector).status == 404)
            var health = try server.admin("GET", "/clients/acme/health")
            #expect(health.string("state") == "connected", "\(health)")
            #expect(health["lastFailureAt"] == .null)

            let created = try server.request(
                "PUT", "/v1/prospects/by-external-id/crm-1", json: #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Lovelace"}"#, auth: connector)
            let recordId = try #require(created.string("id"))
            let wrong = APICredentials(username: connector.username, password: "not-the-password")
            #expect(try server.request("GET", "/v1/prospects/\(recordId)", auth: wrong).status == 401)
            health = try server.admin("GET", "/clients/acme/health")
            #expect(health.value("lastFailureStatus")?.numberValue == 401, "\(health)")

            let failedAt = try #require(health.string("lastFailureAt"))
            #expect(try server.request("GET", "/v1/prospects/\(recordId)", auth: connector).status == 200)
            health = try server.admin("GET", "/clients/acme/health")
            #expect(try #require(health.string("lastSuccessAt")) >= failedAt, "\(health)")
        }
    }

    @Test func aRotatedPasswordAndASuspensionShowAsTheirCauses() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, old) = try server.adminTurnUp("acme")
            #expect(try server.request("GET", "/v1/lead-sources", auth: old).status == 200)
            #expect(try server.admin("POST", "/clients/acme/credentials").status == 201)
            #expect(try server.request("GET", "/v1/lead-sources", auth: old).status == 401)
            // A username nobody was issued is nobody's: it does not touch acme's health.
            #expect(try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: "acme.madeup", password: "x")).status == 401)

            var health = try server.admin("GET", "/clients/acme/health")
            #expect(health.string("state") == "failing")
            #expect(health.value("lastFailureStatus")?.numberValue == 401)
            #expect(Self.cause("rotated-password", in: health)?["applies"] == .bool(true))
            #expect(Self.cause("suspended-client", in: health)?["applies"] == .bool(false))

            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#).status == 200)
            health = try server.admin("GET", "/clients/acme/health")
            #expect(Self.cause("suspended-client", in: health)?["applies"] == .bool(true))
        }
    }

    @Test func instancesFlushingInAnyOrderKeepTheLatestCalls() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let early = Date(timeIntervalSince1970: 1_800_000_000), late = early.addingTimeInterval(60)
            let first = ClientCallRecorder(), second = ClientCallRecorder()
            first.record(username: connector.username, status: 200, at: late)
            first.record(username: connector.username, status: 503, at: early)
            second.record(username: connector.username, status: 422, at: late)
            second.record(username: connector.username, status: 200, at: early)
            try server.pool.withConnection { connection in
                try first.flush(on: connection)
                try second.flush(on: connection)
                try first.flush(on: connection)  // nothing left: no statement
            }
            #expect(first.pendingCount == 0 && second.pendingCount == 0)
            let health = try #require(try server.pool.withConnection { try ClientHealthStore.read(clientIds: ["acme"], on: $0) }["acme"])
            #expect(health.lastSuccessAt == late)
            #expect(health.lastFailureAt == late)
            #expect(health.lastFailureStatus == 422)
        }
    }

    @Test func theFlusherWritesTheNotedCallsInTheBackgroundAndOnStop() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let recorder = ClientCallRecorder()
            let flusher = CallHealthFlusher(recorder: recorder, database: server.pool, interval: .milliseconds(50), logger: TestDatabase.logger)
            flusher.start()
            recorder.record(username: connector.username, status: 200)
            let deadline = Date().addingTimeInterval(10)
            while try Self.storedRows(server) == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            #expect(try Self.storedRows(server) == 1, "written within a few intervals, without any admin read")
            recorder.record(username: connector.username, status: 503)
            flusher.stop()
            #expect(recorder.pendingCount == 0, "stopping writes what is left")
            let health = try #require(try server.pool.withConnection { try ClientHealthStore.read(clientIds: ["acme"], on: $0) }["acme"])
            #expect(health.lastFailureStatus == 503)
        }
    }

    @Test func aFailedFlushKeepsTheCallsForTheNextOne() throws {
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        let recorder = ClientCallRecorder()
        recorder.record(username: "acme.abc", status: 200)
        let pool = PostgresConnectionPool(configuration: unreachable, maximumConnections: 1, acquireTimeout: .seconds(1), logger: TestDatabase.logger)
        defer { pool.close() }
        #expect(throws: (any Error).self) { try pool.withConnection { try recorder.flush(on: $0) } }
        #expect(recorder.pendingCount == 1)
        // Nothing that names no client is kept at all.
        recorder.record(username: "no-dot", status: 200)
        #expect(recorder.pendingCount == 1)
    }

    @Test func theBadgeRules() {
        let now = Date()
        #expect(ClientHealth(openSyncErrors: 0).state(now: now) == "never")
        #expect(ClientHealth(lastSuccessAt: now, openSyncErrors: 0).state(now: now) == "connected")
        #expect(ClientHealth(lastSuccessAt: now, openSyncErrors: 2).state(now: now) == "failing")
        #expect(ClientHealth(lastSuccessAt: now - 10, lastFailureAt: now, lastFailureStatus: 401, openSyncErrors: 0).state(now: now) == "failing")
        #expect(ClientHealth(lastSuccessAt: now, lastFailureAt: now - 10, lastFailureStatus: 401, openSyncErrors: 0).state(now: now) == "connected")
        #expect(ClientHealth(lastSuccessAt: now - 2 * 86_400, openSyncErrors: 0).state(now: now) == "idle")
        #expect(ConnectionTroubleshooting.readable(Date(timeIntervalSince1970: 1_800_000_000.25)) == "2027-01-15 08:00:00 UTC")
    }

    static func storedRows(_ server: TestServer) throws -> Int {
        try server.pool.withConnection { try $0.query("SELECT count(*) FROM client_call_health").first!.decode(Int.self) }
    }

    static func cause(_ name: String, in health: APIResponse) -> JSONObject? {
        health["troubleshooting"]?.arrayValue?.compactMap(\.objectValue).first { $0["cause"]?.stringValue == name }
    }
}
