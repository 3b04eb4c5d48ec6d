import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Sync errors at their real shape: a Connector that sends the same bad records on
/// every sync, thousands of them open, while every other save goes on.
@Suite struct SyncErrorTests {
    static let good = #"{"clubId": "club-1", "firstName": "Zoe", "lastName": "Ng"}"#
    static let badClub = #"{"clubId": "club-9", "firstName": "Zoe", "lastName": "Ng"}"#

    @Test func repeatedRejectionsOfOneRecordAreOneOpenErrorWithACountAndTheLastTime() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            func put(_ externalId: String, _ body: String, requestId: String, ifMatch: String? = nil) throws -> Int {
                var headers = [("X-Request-Id", requestId)]
                if let ifMatch { headers.append(("If-Match", ifMatch)) }
                return try server.request("PUT", "/v1/prospects/by-external-id/\(externalId)", json: body, headers: headers, auth: acme).status
            }
            for attempt in 1...3 { #expect(try put("crm-1", Self.badClub, requestId: "bad-\(attempt)") == 422) }
            #expect(try put("crm-2", Self.badClub, requestId: "other-record") == 422)
            // Another fault of the same call on the same record is another thing to fix.
            #expect(try put("crm-1", Self.good, requestId: "stale", ifMatch: "\"7\"") == 412)
            // A rejection naming no record stays an error of its own, each time.
            for _ in 1...2 {
                #expect(try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-9", "firstName": "Zoe"}"#, auth: acme).status == 422)
            }

            let open = try server.admin("GET", "/clients/acme/sync-errors")
            #expect(open.status == 200, "\(open)")
            #expect(open.items.count == 5, "\(open)")
            #expect(open.value("items.0.externalId") == .string("crm-1"))
            #expect(open.value("items.0.count") == .number(3))
            #expect(open.value("items.0.requestId") == .string("bad-3"), "the last rejection's")
            let first = try #require(open.value("items.0.occurredAt")?.stringValue)
            let last = try #require(open.value("items.0.lastSeenAt")?.stringValue)
            #expect(last > first, "first \(first), last \(last)")
            #expect(open.value("items.1.externalId") == .string("crm-2"))
            #expect(open.value("items.1.count") == .number(1))
            #expect(open.value("items.1.lastSeenAt") == open.value("items.1.occurredAt"))
            #expect(open.value("items.2.externalId") == .string("crm-1"))
            #expect(open.value("items.2.problem.status") == .number(412))
            #expect(open.value("items.3.count") == .number(1) && open.value("items.4.count") == .number(1))
            #expect(open.value("items.3.externalId") == .null)

            // The record saved: both of its errors resolved, the others stay; rejected
            // again later, it is a new error counting from one.
            #expect(try put("crm-1", Self.good, requestId: "fixed") == 201)
            #expect(try server.admin("GET", "/clients/acme/sync-errors").items.count == 3)
            #expect(try put("crm-1", Self.badClub, requestId: "again") == 422)
            let again = try server.admin("GET", "/clients/acme/sync-errors")
            #expect(again.items.count == 4)
            #expect(again.value("items.3.externalId") == .string("crm-1"))
            #expect(again.value("items.3.count") == .number(1))
            #expect(try SaveBatchTests.count(server, "SELECT count(*) FROM sync_errors WHERE external_id = 'crm-1'") == 3)
        }
    }

    /// A record's errors by its id (a rejected merge patch) are resolved by the save
    /// that adopts it through smart matching, not by a save of another record.
    @Test func theSaveThatAdoptsARecordResolvesTheErrorsOfItsId() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let id = try #require(try server.request("POST", "/v1/prospects", json: SaveBatchTests.ada, auth: acme).string("id"))
            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"clubId": "club-9"}"#, auth: acme).status == 422)
            let open = "SELECT count(*) FROM sync_errors WHERE resolved_at IS NULL AND record_id = '\(id)'"
            #expect(try SaveBatchTests.count(server, open) == 1)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/other", json: Self.good, auth: acme).status == 201)
            #expect(try SaveBatchTests.count(server, open) == 1)
            let adopted = try server.request("PUT", "/v1/prospects/by-external-id/crm-1", json: SaveBatchTests.ada, auth: acme)
            #expect(adopted.status == 200 && adopted.string("id") == id, "\(adopted)")
            #expect(try SaveBatchTests.count(server, open) == 0)
        }
    }

    /// Two rejections of one record at once make one error counted twice, never two
    /// rows and never a failure: the unique index settles the race.
    @Test func concurrentRejectionsOfOneRecordCountOnce() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            let rejected = RejectedWrite(
                clientId: "acme", operation: "PUT /v1/prospects/by-external-id/{externalId}", resource: .prospect,
                externalId: "crm-1", recordId: nil, requestId: "r", problem: ["type": .string("urn:x"), "status": .number(422)])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                try? server.pool.withConnection { SyncErrors.record(rejected, on: $0) }
            }
            #expect(try SaveBatchTests.count(server, "SELECT count(*) FROM sync_errors") == 1)
            #expect(try SaveBatchTests.count(server, "SELECT rejections FROM sync_errors") == 8)
        }
    }

    /// With 20,000 errors open, resolving a record's errors is an index lookup of
    /// that record: the plans a save's statements run with (generic, as the save
    /// transaction forces them) touch the record's own index entries, never every
    /// open error of the client.
    @Test func resolvingIsAnIndexLookupWithTwentyThousandErrorsOpen() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    INSERT INTO sync_errors (client_id, operation, resource, external_id, problem)
                    SELECT 'acme', 'PUT /v1/prospects/by-external-id/{externalId}', 'prospect', 'bad-' || n, '{"type": "urn:x"}'
                    FROM generate_series(1, 20000) n;
                    INSERT INTO sync_errors (client_id, operation, resource, record_id, problem)
                    SELECT 'acme', 'PATCH /v1/prospects/{id}', 'prospect', gen_random_uuid(), '{"type": "urn:x"}'
                    FROM generate_series(1, 2000) n;
                    ANALYZE sync_errors
                    """)
            }
            let record = try Self.prospect("bad-17", on: server)
            let statements: [(String, PostgresQuery)] = [
                ("insert", try server.pool.withTransaction { connection in
                    let (clock, _) = try TransactionClock.read(clientId: "acme", staffOwnerEmail: nil, on: connection)
                    let write = try PersonStore<Prospect>.Write(
                        clientId: "acme", id: RecordID.make(), input: record.input, current: nil, at: clock, staffOwnerId: nil)
                    return try #require(try PersonStore<Prospect>.insertAll([write], resolving: true))
                }),
                ("unchanged", try #require(PersonStore<Prospect>.resolveSyncErrors(of: [("acme", record)]))),
            ]
            for (name, statement) in statements {
                let plan = try server.pool.withTransaction { try Self.genericPlan(of: statement, on: $0) }
                #expect(plan.contains("Bitmap Index Scan on sync_errors_open_external_id"), "\(name):\n\(plan)")
                #expect(plan.contains("Bitmap Index Scan on sync_errors_open_record_id"), "\(name):\n\(plan)")
                #expect(!plan.contains("Seq Scan on sync_errors"), "\(name):\n\(plan)")
                #expect(!plan.contains("on sync_errors_open "), "\(name): a scan of every open error\n\(plan)")
            }

            // And it resolves what it should: the one record's error, among all.
            _ = try server.pool.withConnection { try $0.execute(statements[1].1) }
            #expect(try SaveBatchTests.count(server, "SELECT count(*) FROM sync_errors WHERE resolved_at IS NOT NULL") == 1)
            #expect(try SaveBatchTests.count(server, "SELECT count(*) FROM sync_errors WHERE resolved_at IS NOT NULL AND external_id = 'bad-17'") == 1)
        }
    }

    /// One big client with 20,000 open errors, the only one the statistics know:
    /// a save (of a new client, or of the big one) asks whether its record has
    /// open errors with an index probe, never by reading the client's errors.
    @Test func aNewClientsSavesDoNotReadAnotherClientsOpenErrors() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            let newcomer = try server.turnUp("newcomer")
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    INSERT INTO sync_errors (client_id, operation, resource, external_id, problem)
                    SELECT 'acme', 'PUT /v1/prospects/by-external-id/{externalId}', 'prospect', 'bad-' || n, '{"type": "urn:x"}'
                    FROM generate_series(1, 20000) n;
                    ANALYZE sync_errors
                    """)
            }
            let save: PersonSave<Prospect> = try SaveBatchTests.job("crm-1", Self.good, newcomer)
            let plan = try server.pool.withTransaction { try Self.genericPlan(of: PersonStore<Prospect>.lookUp([save]), on: $0) }
            #expect(plan.contains("using sync_errors_open_external_id on sync_errors e"), "\(plan)")
            #expect(plan.contains("using sync_errors_open_record_id on sync_errors e"), "\(plan)")
            #expect(!plan.contains("Seq Scan on sync_errors"), "\(plan)")
        }
    }

    /// A stored prospect of acme's with `externalId`.
    static func prospect(_ externalId: String, on server: TestServer) throws -> Prospect {
        let object = try #require(try JSONParser.parse(Array(Self.good.utf8)).objectValue)
        var input = try Prospect.Input.parse(object).validated()
        input.person.externalId = externalId
        return try server.pool.withTransaction { connection in
            try PersonStore<Prospect>.write(clientId: "acme", id: RecordID.make(), input: input, current: nil, resolving: false, on: connection)
        }
    }

    /// The text of the generic plan PostgreSQL makes for `query` (inside a
    /// transaction: the setting is the transaction's).
    static func genericPlan(of query: PostgresQuery, on connection: PostgresConnection) throws -> String {
        let types = query.bindings.map { $0.dataType.name ?? "unknown" }
        try connection.simpleExecute("SET LOCAL plan_cache_mode = force_generic_plan")
        try connection.simpleExecute("PREPARE plan_check(\(types.joined(separator: ", "))) AS \(query.sql)")
        defer { try? connection.simpleExecute("DEALLOCATE plan_check") }
        // EXPLAIN EXECUTE takes no bound parameters: the values go as literals.
        let literals = zip(query.bindings, types).map { binding, type in
            (binding.text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL") + "::" + type
        }
        return try connection.query(PostgresQuery(sql: "EXPLAIN EXECUTE plan_check(\(literals.joined(separator: ", ")))"))
            .map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
    }
}
