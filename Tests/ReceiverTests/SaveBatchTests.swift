import Dispatch
import Foundation
import HTTPServer
import HTTPTypes
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Saves that share a transaction (`SaveBatch`, on by default): each gets the
/// outcome it would have got alone, refusals included.
@Suite struct SaveBatchTests {
    static let ada = #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}"#

    static func job<Record>(
        _ externalId: String, _ body: String, _ credentials: APICredentials, password: String? = nil, ifMatch: Int? = nil,
        as type: Record.Type = Prospect.self
    ) throws -> PersonSave<Record> {
        var object = try #require(try JSONParser.parse(Array(body.utf8)).objectValue)
        object["externalId"] = .string(externalId)
        let credential = try #require(ClientCredential(username: credentials.username, password: password ?? credentials.password))
        return try #require(PersonSave<Record>(
            credential: credential, input: try Record.Input.parse(object).validated(), condition: ifMatch.map { .versions([$0]) }))
    }

    static func count(_ server: TestServer, _ sql: String) throws -> Int {
        try server.pool.withConnection { try $0.query(PostgresQuery(sql: sql)).first!.decode(0, as: Int.self) }
    }

    /// The parts of an outcome a test compares: the status it is answered with, the version.
    static func summary<Record>(_ outcome: SaveOutcome<Record>) -> String {
        switch outcome {
        case .failed(let error): return "failure \(Problem(error).status.code)"
        case .saved(let record, let created, _): return "\(created ? 201 : 200) v\(record.version)"
        }
    }

    static func id<Record>(_ outcome: SaveOutcome<Record>) -> String? {
        guard case .saved(let record, _, _) = outcome else { return nil }
        return record.id.lowercasedString
    }

    static func run<Record>(_ saves: [PersonSave<Record>], _ server: TestServer, rateLimiter: ClientRateLimiter? = nil) -> [SaveOutcome<Record>] {
        SaveBatch<Record>.run(saves, rateLimiter: rateLimiter, database: server.pool)
    }

    @Test func oneBatchWritesWhatSucceedsAndAnswersEveryErrorAsALoneSaveWould() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme", clubs: [("club-1", "Downtown", true), ("club-2", "Uptown", false)])
            let gone = try server.turnUp("gone")
            try server.pool.withConnection { _ = try $0.execute("UPDATE clients SET status = 'suspended' WHERE client_id = 'gone'") }
            let body = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng"}"#
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/old-1", json: body, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/old-2", json: body, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/same", json: body, auth: acme).status == 201)
            // Rejected before: an open sync error that new-1's success resolves.
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-1",
                                       json: #"{"clubId": "club-2", "firstName": "Zoe"}"#, auth: acme).status == 422)
            // Created without an external id by a club system: smart matching adopts it.
            let unmatched = try server.request("POST", "/v1/prospects", json: Self.ada, auth: acme)
            #expect(unmatched.status == 201)

            let jobs = [
                try Self.job("new-1", body, acme),                                         // 0 insert
                try Self.job("old-1", #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng", "notes": "x"}"#, acme),  // 1 update
                try Self.job("same", body, acme),                                          // 2 unchanged
                try Self.job("new-2", body, acme, password: "wrong"),                      // 3 401
                try Self.job("new-3", body, gone),                                         // 4 403
                try Self.job("old-2", body, acme, ifMatch: 9),                             // 5 412
                try Self.job("new-4", #"{"clubId": "club-2", "firstName": "Zoe"}"#, acme), // 6 club switched off
                try Self.job("new-5", #"{"clubId": "club-1", "firstName": "Zoe", "leadSourceId": "2b0e8b5e-0000-4000-8000-000000000000"}"#, acme),  // 7 a reference
                try Self.job("crm-1", Self.ada, acme),                                     // 8 adopts the record
                try Self.job("crm-2", Self.ada, acme),                                     // 9 the same record: a new one
                try Self.job("new-6", body, APICredentials(username: "nobody.x", password: "x")),  // 10 unknown client
            ]
            let outcomes = Self.run(jobs, server)
            #expect(outcomes.map(Self.summary) == [
                "201 v1", "200 v2", "200 v1", "failure 401", "failure 403", "failure 412", "failure 422", "failure 422",
                "200 v2", "201 v1", "failure 401",
            ])
            #expect(Self.id(outcomes[8]) == unmatched.string("id"))
            #expect(outcomes[6].error == .invalidField("clubId", "is switched off and accepts no writes; ask the receiver's administrators to enable it"))
            #expect(outcomes[7].error == .invalidField("leadSourceId", "is not one of your lead sources"))

            // Durable and as a lone save would have left it; nothing of the others written.
            let stored = try server.request("GET", "/v1/prospects/\(Self.id(outcomes[0]) ?? "")", auth: acme)
            #expect(stored.status == 200 && stored.string("externalId") == "new-1" && stored.string("clubId") == "club-1")
            #expect(try Self.count(server, "SELECT count(*) FROM prospects WHERE external_id IN ('new-2','new-3','new-4','new-5','new-6')") == 0)
            #expect(try Self.count(server, "SELECT count(*) FROM sync_errors WHERE external_id = 'new-1' AND resolved_at IS NULL") == 0)
            #expect(try Self.count(server, "SELECT count(*) FROM sync_errors WHERE external_id = 'new-1'") == 1)

            // Over HTTP, the same saves get the same answers.
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-2", json: body, auth: APICredentials(username: acme.username, password: "wrong")).status == 401)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-3", json: body, auth: gone).status == 403)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/old-2", json: body, headers: [("If-Match", "\"9\"")], auth: acme).status == 412)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-4", json: #"{"clubId": "club-2", "firstName": "Zoe"}"#, auth: acme).status == 422)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-5", json: #"{"clubId": "club-1", "firstName": "Zoe", "leadSourceId": "2b0e8b5e-0000-4000-8000-000000000000"}"#, auth: acme).status == 422)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-2", json: Self.ada, auth: acme).status == 200)
        }
    }

    /// A batch reads back only what the database adds to a record (the staff owner);
    /// the rest of each answer comes from the save and the transaction's clock. Every
    /// answer must still be the record as stored: what a GET returns, byte for byte.
    @Test func everyAnswerOfABatchIsTheRecordAsStored() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let acme = try server.turnUp("acme")
            #expect(try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"firstName": "Kim"}"#).status == 201)
            let owned = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng", "staffOwnerEmail": "KIM@example.com", "birthDate": "1990-02-28"}"#
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/old-1", json: owned, auth: acme).status == 201)
            let converted = try server.request("PUT", "/v1/prospects/by-external-id/won-1", json: owned, auth: acme)
            let prospectId = try #require(converted.string("id"))
            #expect(try server.request("POST", "/v1/prospects/\(prospectId)/convert", json: #"{"externalId": "m-1"}"#, auth: acme).status == 201)
            #expect(try server.request("POST", "/v1/prospects", json: Self.ada, auth: acme).status == 201)
            Thread.sleep(forTimeInterval: 0.01)  // the batch's clock is later than every createdAt above

            let prospects = Self.run([
                try Self.job("new-1", owned, acme),                                         // insert, with a staff owner
                try Self.job("old-1", #"{"clubId": "club-2", "firstName": "Zoe", "notes": "é ✓"}"#, acme),  // update, owner gone
                try Self.job("won-1", owned.replacingOccurrences(of: "Ng", with: "Ng-Lee"), acme),  // update of a converted one (v2)
                try Self.job("crm-1", Self.ada, acme),                                      // adopts the record
            ], server)
            let members = Self.run([
                try Self.job("m-2", #"{"clubId": "club-1", "lastName": "Ng", "joinDate": "2026-01-31", "membershipType": "gold"}"#, acme, as: Member.self),
                try Self.job("m-1", #"{"clubId": "club-1", "firstName": "Zoe", "memberNumber": "A1"}"#, acme, as: Member.self),
            ], server)
            #expect(prospects.map(Self.summary) == ["201 v1", "200 v2", "200 v3", "200 v2"])
            #expect(members.map(Self.summary) == ["201 v1", "200 v2"])

            func check<Record>(_ path: String, _ outcome: SaveOutcome<Record>, json: (Record) -> JSONObject) throws {
                guard case .saved(let record, _, _) = outcome else { Issue.record("\(path): \(outcome)"); return }
                let stored = try server.request("GET", "\(path)/\(record.id.lowercasedString)", auth: acme)
                #expect(stored.status == 200)
                #expect(String(decoding: JSONWriter.serialize(.object(json(record))), as: UTF8.self) == stored.body)
                #expect(stored.header("ETag") == "\"\(record.version)\"")
            }
            for outcome in prospects { try check("/v1/prospects", outcome, json: \.json) }
            for outcome in members { try check("/v1/members", outcome, json: \.json) }
            let answers = prospects.compactMap { outcome -> JSONObject? in
                guard case .saved(let record, _, _) = outcome else { return nil }
                return record.json
            }
            #expect(answers[0]["staffOwnerId"]?.stringValue != nil && answers[1]["staffOwnerId"] == .null)
            #expect(answers[2]["memberId"]?.stringValue != nil && answers[2]["createdAt"] != answers[2]["updatedAt"])
        }
    }

    /// The writes resolve sync errors only when the lookup found some open for a
    /// record of the batch; then those of the records written or left unchanged,
    /// and no other record's or client's.
    @Test func aBatchResolvesTheOpenSyncErrorsOfTheRecordsItSavesAndNoOthers() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme", clubs: [("club-1", "Downtown", true), ("club-2", "Uptown", false)])
            let beta = try server.turnUp("beta", clubs: [("club-1", "Downtown", true), ("club-2", "Uptown", false)])
            let body = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng"}"#
            let rejected = #"{"clubId": "club-2", "firstName": "Zoe", "lastName": "Ng"}"#
            for (externalId, credentials) in [("old-1", acme), ("same", acme), ("b-1", beta)] {
                #expect(try server.request("PUT", "/v1/prospects/by-external-id/\(externalId)", json: body, auth: credentials).status == 201)
                #expect(try server.request("PUT", "/v1/prospects/by-external-id/\(externalId)", json: rejected, auth: credentials).status == 422)
            }
            let open = "SELECT count(*) FROM sync_errors WHERE resolved_at IS NULL AND client_id = "
            #expect(try Self.count(server, open + "'acme'") == 2 && Self.count(server, open + "'beta'") == 1)

            let updated = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng", "notes": "x"}"#
            let first = Self.run(
                [try Self.job("old-1", updated, acme), try Self.job("same", body, acme), try Self.job("new-1", body, acme)], server)
            #expect(first.map(Self.summary) == ["200 v2", "200 v1", "201 v1"])
            #expect(try Self.count(server, open + "'acme'") == 0 && Self.count(server, open + "'beta'") == 1)

            // No open errors for acme any more: the plain statements; beta's stays open.
            let second = Self.run([try Self.job("old-1", body, acme), try Self.job("new-2", body, acme)], server)
            #expect(second.map(Self.summary) == ["200 v3", "201 v1"])
            #expect(try Self.count(server, open + "'beta'") == 1)

            // Mixed: one client with open errors resolves only its own.
            let third = Self.run([try Self.job("new-3", body, acme), try Self.job("b-1", updated, beta)], server)
            #expect(third.map(Self.summary) == ["201 v1", "200 v2"])
            #expect(try Self.count(server, open + "'beta'") == 0)
            #expect(try Self.count(server, "SELECT count(*) FROM sync_errors") == 3)
        }
    }

    @Test func aRateLimitedSaveInABatchIsAnswered429AndNotWritten() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let limiter = ClientRateLimiter(settings: ClientRateLimiter.Settings(requestsPerSecond: 0.001, burst: 1))
            let body = #"{"clubId": "club-1", "firstName": "Zoe"}"#
            let outcomes = Self.run([try Self.job("r-1", body, acme), try Self.job("r-2", body, acme)], server, rateLimiter: limiter)
            #expect(outcomes.map(Self.summary) == ["201 v1", "failure 429"])
            #expect(try Self.count(server, "SELECT count(*) FROM prospects WHERE external_id = 'r-2'") == 0)
        }
    }

    @Test func aDatabaseThatIsDownAnswersEverySaveOfTheBatch503() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
            let pool = PostgresConnectionPool(configuration: unreachable, maximumConnections: 1, acquireTimeout: .seconds(1), logger: TestDatabase.logger)
            defer { pool.close() }
            let body = #"{"clubId": "club-1", "firstName": "Zoe"}"#
            let outcomes = SaveBatch<Prospect>.run([try Self.job("d-1", body, acme), try Self.job("d-2", body, acme)], rateLimiter: nil, database: pool)
            #expect(outcomes.map(Self.summary) == ["failure 503", "failure 503"])
        }
    }

    /// A save with a body too big to read on the I/O thread is read on a worker
    /// and saved alone, with the same answer.
    @Test func aBigSaveBodyIsReadOnAWorkerAndSavedAlone() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let padding = String(repeating: " ", count: PersonRoutes<Prospect>.largestBodyReadInline)
            let body = #"{"clubId": "club-1", "firstName": "Ada",\#(padding)"lastName": "Lovelace"}"#
            let created = try server.request("PUT", "/v1/prospects/by-external-id/big", json: body, auth: acme)
            #expect(created.status == 201)
            #expect(created.string("lastName") == "Lovelace")
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/big", json: body, auth: acme).status == 200)
        }
    }

    /// Saves waiting for a lane have the bounds of requests waiting for a worker:
    /// past them, `503` overloaded at once, and nothing is written.
    @Test func savesBeyondTheQueueBoundAreAnsweredOverloaded() throws {
        var service = ReceiverService.Configuration()
        service.saveQueue = .init(maxWaiting: 0, maxWait: nil)
        try TestServer.run(service: service) { server in
            let acme = try server.turnUp("acme")
            for id in ["x", "y"] {
                #expect(try server.request("PUT", "/v1/prospects/by-external-id/\(id)", json: Self.ada, auth: acme).status == 201)
            }
            // Both lanes stuck behind records another transaction holds.
            let blocker = try PostgresConnection.connect(server.configuration)
            defer { blocker.close() }
            try blocker.begin(with: ["SELECT id FROM prospects WHERE external_id IN ('x', 'y') FOR UPDATE"])
            let updated = Mutex([Int]())
            let group = DispatchGroup()
            // One at a time, so that each takes a lane of its own (queued together,
            // both would share one batch and leave the other lane free).
            for (index, id) in ["x", "y"].enumerated() {
                group.enter()
                Thread.detachNewThread {
                    let body = #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Lovelace", "notes": "held"}"#
                    let status = (try? server.request("PUT", "/v1/prospects/by-external-id/\(id)", json: body, auth: acme))?.status ?? -1
                    updated.withLock { $0.append(status) }
                    group.leave()
                }
                var waiting = 0
                for _ in 0..<1000 where waiting < index + 1 {
                    usleep(10_000)
                    waiting = try Self.count(server, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                }
                try #require(waiting == index + 1, "lanes blocked: \(waiting)")
            }
            let refused = try server.request("PUT", "/v1/prospects/by-external-id/z", json: Self.ada, auth: acme)
            #expect(refused.status == 503)
            #expect(refused["type"] == .string("urn:connector-receiver:problem:overloaded"))
            #expect(refused.header("Retry-After") == "2")
            #expect(try Self.count(server, "SELECT count(*) FROM prospects WHERE external_id = 'z'") == 0)
            blocker.rollback()
            #expect(group.wait(timeout: .now() + 10) == .success)
            #expect(updated.withLock { $0 } == [200, 200])
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/z", json: Self.ada, auth: acme).status == 201)
        }
    }

    /// Many clients saving at once, over HTTP: batches form (fewer commits than
    /// saves), every save is answered as if alone, every acknowledged save is stored.
    @Test func concurrentSavesShareCommitsAndEachGetsItsOwnAnswer() throws {
        try TestServer.run(poolSize: 8) { server in
            let acme = try server.turnUp("acme")
            let beta = try server.turnUp("beta")
            let results = Mutex<[(client: String, externalId: String, status: Int, version: Double?)]>([])
            // 24 threads of their own: concurrentPerform runs one per core, too few to queue saves.
            _ = BatcherTests.concurrently(24) { caller in
                let credentials = caller % 2 == 0 ? acme : beta
                for step in 0..<10 {
                    // Each caller creates its own records and, half the time, saves a shared one again.
                    let externalId = step % 2 == 0 ? "c\(caller)-\(step)" : "shared-\(step % 4)"
                    let body = #"{"clubId": "club-1", "firstName": "Zoe", "notes": "\#(caller)-\#(step)"}"#
                    let response = try? server.request("PUT", "/v1/prospects/by-external-id/\(externalId)", json: body, auth: credentials)
                    let version = response?["version"].flatMap { if case .number(let n) = $0 { n } else { nil } }
                    results.withLock { $0.append((credentials.username, externalId, response?.status ?? -1, version)) }
                }
            }
            let all = results.withLock { $0 }
            #expect(all.count == 240)
            #expect(all.allSatisfy { $0.status == 200 || $0.status == 201 }, "\(all.filter { $0.status != 200 && $0.status != 201 })")
            // Rows written by one transaction carry its id (xmin): fewer ids than rows, shared commits.
            let rows = try Self.count(server, "SELECT count(*) FROM prospects")
            let transactions = try Self.count(server, "SELECT count(DISTINCT xmin::text) FROM prospects")
            print("save batching: 240 saves over HTTP from 24 clients; the \(rows) records were last written by \(transactions) transactions")
            #expect(transactions < rows, "every save had its own transaction")

            // One 201 per record; its final version counts every save that changed it.
            let byRecord = Dictionary(grouping: all, by: { "\($0.client) \($0.externalId)" })
            for (record, saves) in byRecord {
                #expect(saves.filter { $0.status == 201 }.count == 1, "\(record): \(saves)")
                #expect(saves.compactMap(\.version).max() == Double(saves.count), "\(record): \(saves)")
            }
            #expect(try Self.count(server, "SELECT count(*) FROM prospects") == byRecord.count)
            #expect(try Self.count(server, "SELECT max(version) FROM prospects") == 36)  // shared-1: 3 saves by each of 12 callers
        }
    }

    /// Two instances over one database: a batch that hits the other's insert of
    /// the same external id fails as a whole, and its saves run alone.
    @Test func twoInstancesSavingTheSameNewRecordsStoreEachOnce() throws {
        try TestDatabase.withMigratedDatabase { configuration in
            try TestServer.run(database: configuration) { first in
                try TestServer.run(database: configuration) { second in
                    let acme = try first.turnUp("acme")
                    let statuses = Mutex<[String: [Int]]>([:])
                    DispatchQueue.concurrentPerform(iterations: 16) { caller in
                        let server = caller % 2 == 0 ? first : second
                        for step in 0..<8 {
                            let externalId = "race-\(step)"
                            let status = (try? server.request("PUT", "/v1/prospects/by-external-id/\(externalId)",
                                                              json: #"{"clubId": "club-1", "firstName": "Zoe"}"#, auth: acme).status) ?? -1
                            statuses.withLock { $0[externalId, default: []].append(status) }
                        }
                    }
                    for (externalId, answers) in statuses.withLock({ $0 }) {
                        #expect(answers.filter { $0 == 201 }.count == 1, "\(externalId): \(answers)")
                        #expect(answers.filter { $0 == 200 }.count == 15, "\(externalId): \(answers)")
                    }
                    #expect(try Self.count(first, "SELECT count(*) FROM prospects") == 8)
                    #expect(try Self.count(first, "SELECT max(version) FROM prospects") == 1)
                }
            }
        }
    }

    @Test func withoutLanesEverySaveRunsAlone() throws {
        try TestServer.run(service: ReceiverService.Configuration(saveLanes: 0)) { server in
            let acme = try server.turnUp("acme")
            let body = #"{"clubId": "club-1", "firstName": "Zoe"}"#
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/a-1", json: body, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/a-1", json: body, auth: acme).status == 200)
            #expect(try server.request("PUT", "/v1/members/by-external-id/m-1", json: body, auth: acme).status == 201)
            #expect(try Self.count(server, "SELECT count(*) FROM prospects WHERE version = 1") == 1)
        }
    }
}
