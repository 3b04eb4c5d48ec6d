import Dispatch
import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The change feed (`GET /v1/changes`): an event with every change, in the same
/// transaction; read in order, exactly once, whatever order transactions commit in.
@Suite struct ChangeFeedTests {
    static let zoe = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng"}"#

    /// Reads the feed from `after` until it is caught up and has at least
    /// `expecting` events; the events and where to continue. The feed's horizon is
    /// the whole cluster's: a transaction held open by a test running beside this
    /// one holds every feed back until it ends, so this waits (a while) for what it expects.
    static func readAll(
        _ server: TestServer, _ auth: APICredentials, after: String? = nil, query: String = "", limit: Int = 500, expecting: Int = 0
    ) throws -> (events: [JSONObject], next: String) {
        var cursor = after
        var events: [JSONObject] = []
        let deadline = Date().addingTimeInterval(30)
        while true {
            let path = "/v1/changes?limit=\(limit)" + (cursor.map { "&after=\($0)" } ?? "") + query
            let page = try server.request("GET", path, auth: auth)
            try #require(page.status == 200, "\(page)")
            guard case .array(let items)? = page["items"] else { throw TestSetupError(description: "no items: \(page)") }
            events += items.compactMap(\.objectValue)
            cursor = try #require(page.string("nextCursor"), "nextCursor is never null")
            if items.count < limit, events.count >= expecting || Date() > deadline { return (events, cursor!) }
            if items.count < limit { Thread.sleep(forTimeInterval: 0.05) }
        }
    }

    static func summary(_ event: JSONObject) -> String {
        let version = event["data"]?.objectValue?["version"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } }
        return "\(event["type"]?.stringValue ?? "?") v\(version.map(String.init) ?? "?")"
    }

    static func count(_ server: TestServer, _ sql: String) throws -> Int {
        try server.pool.withConnection { try $0.query(PostgresQuery(sql: sql)).first!.decode(0, as: Int.self) }
    }

    /// Every record's version equals the number of its events: no change without
    /// its event, no event without its change.
    static func eventsMatchRecords(_ server: TestServer) throws -> Bool {
        try count(server, """
            SELECT count(*) FROM (
                SELECT client_id, id, version FROM prospects UNION ALL SELECT client_id, id, version FROM members
                UNION ALL SELECT client_id, id, version FROM lead_sources UNION ALL SELECT client_id, id, version FROM staff) r
            WHERE r.version <> (SELECT count(*) FROM events e WHERE e.client_id = r.client_id AND e.record_id = r.id)
            """) == 0
    }

    @Test func everyKindOfWriteRecordsItsEventAndOnlyAChangingOne() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let acme = try server.turnUp("acme")
            let created = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "firstName": "Ada", "externalId": "p-1"}"#, auth: acme)
            let id = try #require(created.string("id"))
            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "called"}"#, auth: acme).status == 200)
            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "called"}"#, auth: acme).status == 200)  // no change
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/p-2", json: Self.zoe, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/p-2", json: Self.zoe, auth: acme).status == 200)  // no change
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/p-2", json: #"{"clubId": "club-9", "firstName": "Zoe"}"#, auth: acme).status == 422)
            let member = try server.request("POST", "/v1/prospects/\(id)/convert", json: #"{"externalId": "m-1"}"#, auth: acme)
            #expect(member.status == 201)
            #expect(try server.request("PUT", "/v1/members/by-external-id/m-2", json: Self.zoe, auth: acme).status == 201)
            let source = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: acme)
            let sourceId = try #require(source.string("id"))
            #expect(try server.request("PATCH", "/v1/lead-sources/\(sourceId)", json: #"{"name": "Website"}"#, auth: acme).status == 200)
            #expect(try server.request("DELETE", "/v1/lead-sources/\(sourceId)", auth: acme).status == 204)
            #expect(try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"firstName": "Kim"}"#).status == 201)
            #expect(try server.admin("DELETE", "/clients/acme/staff/kim@example.com").status == 200)

            let (events, _) = try Self.readAll(server, acme, expecting: 11)
            #expect(events.map(Self.summary) == [
                "prospect.created v1", "prospect.updated v2", "prospect.created v1",
                "member.created v1", "prospect.converted v3", "member.created v1",
                "lead_source.created v1", "lead_source.updated v2", "lead_source.updated v3",
                "staff.created v1", "staff.updated v2",
            ])
            // The record exactly as GET returns it after the change.
            let memberId = try #require(member.string("id"))
            let memberEvent = try #require(events.first { $0["data"]?.objectValue?["id"]?.stringValue == memberId })
            #expect(String(decoding: JSONWriter.serialize(memberEvent["data"]!), as: UTF8.self) == member.body)
            let converted = try server.request("GET", "/v1/prospects/\(id)", auth: acme)
            #expect(String(decoding: JSONWriter.serialize(events[4]["data"]!), as: UTF8.self) == converted.body)
            #expect(events[0]["clubId"] == .string("club-1") && events[6]["clubId"] == .null && events[9]["clubId"] == .null)
            #expect(events.allSatisfy { ($0["id"]?.stringValue ?? "").hasPrefix("evt_") && $0["occurredAt"]?.stringValue != nil })
            #expect(Set(events.compactMap { $0["id"]?.stringValue }).count == events.count)
            #expect(try Self.eventsMatchRecords(server))

            // Another client sees none of them.
            let beta = try server.turnUp("beta")
            #expect(try Self.readAll(server, beta).events.isEmpty)
        }
    }

    @Test func aBatchOfSavesRecordsOneEventPerChangedRecordInItsTransaction() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/same", json: Self.zoe, auth: acme).status == 201)
            let saves = [
                try SaveBatchTests.job("new-1", Self.zoe, acme), try SaveBatchTests.job("same", Self.zoe, acme),
                try SaveBatchTests.job("new-2", #"{"clubId": "club-9", "firstName": "Zoe"}"#, acme),
                try SaveBatchTests.job("same", #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng", "notes": "x"}"#, acme),
            ]
            let outcomes = SaveBatchTests.run(Array(saves[0...2]), server) + SaveBatchTests.run([saves[3]], server)
            #expect(outcomes.map(SaveBatchTests.summary) == ["201 v1", "200 v1", "failure 422", "200 v2"])
            let events = try Self.readAll(server, acme, expecting: 3).events
            #expect(events.map(Self.summary) == ["prospect.created v1", "prospect.created v1", "prospect.updated v2"])
            let transactions = try Self.count(server, "SELECT count(DISTINCT xmin::text) FROM events WHERE type = 'prospect.created'")
            #expect(transactions == 2, "the batch's insert and its event share a transaction with each other, not with the first save")
            #expect(try Self.eventsMatchRecords(server))
        }
    }

    /// The reason for the horizon: a transaction that started writing first but
    /// commits last must not be skipped by a reader that already read past the
    /// events committed after it.
    @Test func aReaderSeesEveryEventOnceWhenTransactionsCommitOutOfOrder() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let first = try Self.readAll(server, acme)
            #expect(first.events.isEmpty)

            // T1 writes a prospect and stays open.
            let held = try PostgresConnection.connect(server.configuration)
            defer { held.close() }
            let input = try ProspectInput.parse(try #require(try JSONParser.parse(Array(#"{"clubId": "club-1", "firstName": "Held", "externalId": "t-1"}"#.utf8)).objectValue)).validated()
            try held.execute("BEGIN")
            _ = try PersonStore<Prospect>.write(clientId: "acme", id: RecordID.make(), input: input, current: nil, on: held)

            // T2, T3 start later and commit first.
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/t-2", json: Self.zoe, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/t-3", json: Self.zoe, auth: acme).status == 201)
            let whileHeld = try Self.readAll(server, acme, after: first.next)
            #expect(whileHeld.events.isEmpty, "nothing past the open transaction is handed out: \(whileHeld.events.map(Self.summary))")

            try held.execute("COMMIT")
            let after = try Self.readAll(server, acme, after: whileHeld.next, expecting: 3)
            #expect(after.events.compactMap { $0["data"]?.objectValue?["externalId"]?.stringValue } == ["t-1", "t-2", "t-3"])
            #expect(try Self.readAll(server, acme, after: after.next).events.isEmpty)

            // A rolled-back write leaves no event.
            try held.execute("BEGIN")
            var other = input
            other.person.externalId = "t-4"
            _ = try PersonStore<Prospect>.write(clientId: "acme", id: RecordID.make(), input: other, current: nil, on: held)
            try held.execute("ROLLBACK")
            #expect(try Self.readAll(server, acme, after: after.next).events.isEmpty)
            #expect(try Self.count(server, "SELECT count(*) FROM events") == 3)
        }
    }

    /// Many writers saving shared records at once, one reader following the feed:
    /// every version of every record, once, in the order of its versions.
    @Test func aReaderFollowingManyWritersGetsEveryVersionOfEveryRecordInOrderOnce() throws {
        try TestServer.run(poolSize: 12) { server in
            let acme = try server.turnUp("acme")
            let writers = 8, savesEach = 30, records = 6
            let done = Atomic<Int>(0)
            let seen = Mutex<[String: [Int]]>([:])
            let reader = DispatchGroup()
            reader.enter()
            Thread.detachNewThread {
                defer { reader.leave() }
                var cursor: String?
                let deadline = Date().addingTimeInterval(90)
                while Date() < deadline {
                    let path = "/v1/changes?limit=50&wait=1" + (cursor.map { "&after=\($0)" } ?? "")
                    guard let page = try? server.request("GET", path, auth: acme), page.status == 200,
                          case .array(let items)? = page["items"] else { continue }
                    for item in items.compactMap(\.objectValue) {
                        let data = item["data"]?.objectValue
                        guard let externalId = data?["externalId"]?.stringValue, case .number(let version)? = data?["version"] else { continue }
                        seen.withLock { $0[externalId, default: []].append(Int(version)) }
                    }
                    cursor = page.string("nextCursor")
                    // Every save changes its record (the notes differ), so every one has its
                    // event. An empty page does not mean the end: a transaction open anywhere
                    // on the cluster (a test beside this one) holds the feed back until it ends.
                    if done.load(ordering: .acquiring) == writers, items.isEmpty,
                       seen.withLock({ $0.values.map(\.count).reduce(0, +) }) >= writers * savesEach { return }
                }
            }
            let statuses = Mutex<[Int]>([])
            _ = BatcherTests.concurrently(writers) { writer in
                for step in 0..<savesEach {
                    let body = #"{"clubId": "club-1", "firstName": "Zoe", "notes": "\#(writer)-\#(step)"}"#
                    let status = (try? server.request("PUT", "/v1/prospects/by-external-id/r-\((writer + step) % records)", json: body, auth: acme))?.status ?? -1
                    statuses.withLock { $0.append(status) }
                }
                done.add(1, ordering: .releasing)
            }
            #expect(reader.wait(timeout: .now() + 120) == .success)
            #expect(statuses.withLock { $0 }.allSatisfy { $0 == 200 || $0 == 201 })
            let versions = seen.withLock { $0 }
            #expect(versions.count == records)
            for (externalId, list) in versions {
                #expect(list == Array(1...list.count), "\(externalId): \(list)")
            }
            #expect(versions.values.map(\.count).reduce(0, +) == writers * savesEach, "every save changed its record (notes differ)")
            #expect(try Self.eventsMatchRecords(server))
        }
    }

    @Test func aWaitingReaderIsAnsweredWhenAnEventCommitsAndOtherwiseAtItsDeadline() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let start = try Self.readAll(server, acme).next
            let answered = Mutex<APIResponse?>(nil)
            let waiting = DispatchGroup()
            waiting.enter()
            let began = Date()
            Thread.detachNewThread {
                answered.withLock { $0 = try? server.request("GET", "/v1/changes?wait=20&after=\(start)", auth: acme) }
                waiting.leave()
            }
            Thread.sleep(forTimeInterval: 0.3)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/w-1", json: Self.zoe, auth: acme).status == 201)
            #expect(waiting.wait(timeout: .now() + 15) == .success)
            let page = try #require(answered.withLock { $0 })
            #expect(page.status == 200)
            #expect(Date().timeIntervalSince(began) < 15, "answered when the event committed, not at the deadline")
            guard case .array(let items)? = page["items"] else { Issue.record("\(page)"); return }
            #expect(items.count == 1)
            #expect(page.header("Cache-Control") == "no-store")

            // Nothing comes: an empty page at the deadline, with where to continue.
            let next = try #require(page.string("nextCursor"))
            let quiet = try server.request("GET", "/v1/changes?wait=1&after=\(next)", auth: acme)
            #expect(quiet.status == 200 && quiet["items"] == .array([]) && quiet.string("nextCursor") != nil)
        }
    }

    @Test func filtersLeaveOutOtherTypesAndClubsAndTheCursorMovesPastThem() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/a", json: Self.zoe, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/members/by-external-id/b", json: #"{"clubId": "club-2", "firstName": "Bo"}"#, auth: acme).status == 201)
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: acme).status == 201)
            #expect(try Self.readAll(server, acme, query: "&types=member.created,lead_source.created", expecting: 2).events.map(Self.summary)
                    == ["member.created v1", "lead_source.created v1"])
            #expect(try Self.readAll(server, acme, query: "&clubId=club-1", expecting: 1).events.map(Self.summary) == ["prospect.created v1"])
            let filtered = try Self.readAll(server, acme, query: "&types=staff.created")
            #expect(filtered.events.isEmpty)
            #expect(try Self.readAll(server, acme, after: filtered.next).events.isEmpty, "the cursor moved past what the filter left out")
        }
    }

    @Test func badParametersAre400AndWritesWithTheFeedAreNot() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            for query in ["limit=0", "limit=501", "wait=31", "wait=-1", "after=nonsense", "types=prospect.deleted", "types=", "limit=1&limit=2",
                          "clubId=", "clubId=club%201"] {
                let response = try server.request("GET", "/v1/changes?\(query)", auth: acme)
                #expect(response.status == 400, "\(query): \(response)")
                #expect(response["type"] == .string("urn:connector-receiver:problem:bad-request"))
            }
            #expect(try server.request("GET", "/v1/changes").status == 401)
            #expect(try server.request("POST", "/v1/changes", json: "{}", auth: acme).status == 405)
        }
    }

    /// Retention drops whole days past it; a cursor from before is 410, and the
    /// same run deletes idempotency keys past their 24 hours.
    @Test func retentionDropsOldPartitionsExpiresOldCursorsAndForgetsOldIdempotencyKeys() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            try server.pool.withConnection { connection in
                try connection.execute("CREATE TABLE events_20200101 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2020-01-02')")
                try connection.execute("""
                    INSERT INTO events (client_id, pos_xid, occurred_at, id, type, club_id, record_id, version, data)
                    VALUES ('acme', '1', '2020-01-01 10:00Z', gen_random_uuid(), 'prospect.created', 'club-1', gen_random_uuid(), 1, '{}')
                    """)
            }
            _ = try Self.readAll(server, acme, expecting: 1)
            // A cursor at the old event: retention is about to drop its day.
            let oldPage = try server.request("GET", "/v1/changes?limit=1", auth: acme)
            #expect(oldPage["items"].flatMap { if case .array(let items) = $0 { items.count } else { nil } } == 1)
            let old = (next: try #require(oldPage.string("nextCursor")), ())
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/n-1", json: Self.zoe, auth: acme).status == 201)

            let report = try server.pool.withConnection { try EventRetention.run(retention: .seconds(30 * 86_400), on: $0) }
            #expect(report.ran && report.partitionsDropped == ["events_20200101"])
            let expired = try server.request("GET", "/v1/changes?after=\(old.next)", auth: acme)
            #expect(expired.status == 410)
            #expect(expired["type"] == .string("urn:connector-receiver:problem:cursor-expired"))
            #expect(expired.string("detail")?.contains("updatedSince") == true)
            // From the start, what is kept.
            #expect(try Self.readAll(server, acme, expecting: 1).events.map(Self.summary) == ["prospect.created v1"])
            // Partitions exist for the week ahead; a second run has nothing to do.
            let again = try server.pool.withConnection { try EventRetention.run(retention: .seconds(30 * 86_400), on: $0) }
            #expect(again.ran && again.partitionsCreated.isEmpty && again.partitionsDropped.isEmpty)
            let later = try server.pool.withConnection {
                try EventRetention.run(retention: .seconds(30 * 86_400), now: Date().addingTimeInterval(3 * 86_400), on: $0)
            }
            #expect(later.partitionsCreated.count == 3)
        }
    }
}
