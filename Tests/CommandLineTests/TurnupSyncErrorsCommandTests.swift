import Foundation
import Postgres
import TestSupport
import Testing

/// `turnup sync-errors`: a client's open errors, each rejected record once, with
/// how many times and when last.
@Suite struct TurnupSyncErrorsCommandTests {
    @Test func openErrorsAreListedOncePerRecordWithTheirCount() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let connection = try PostgresConnection.connect(try PostgresConfiguration(url: database.url), logger: TestDatabase.logger)
            defer { connection.close() }
            try connection.simpleExecute("""
                INSERT INTO sync_errors (client_id, operation, resource, external_id, problem, occurred_at, last_seen_at, rejections)
                VALUES ('acme', 'PUT /v1/prospects/by-external-id/{externalId}', 'prospect', 'crm-1',
                        '{"type": "urn:x", "status": 422, "detail": "The field clubId is invalid."}',
                        '2026-12-01 10:00Z', '2026-12-05 10:00Z', 3)
                """)
            let table = try database.run(["turnup", "sync-errors", "acme"])
            #expect(table.status == 0, "\(table.output)")
            #expect(table.output.contains("LAST SEEN") && table.output.contains("COUNT"), "\(table.output)")
            let line = try #require(table.output.split(separator: "\n").first { $0.contains("crm-1") })
            #expect(line.contains("2026-12-05") && line.contains(" 3 "), "\(line)")

            let json = try database.json(["turnup", "sync-errors", "acme", "--json"])
            let item = try #require((json["items"] as? [[String: Any]])?.first)
            #expect(item["count"] as? Int == 3)
            #expect((item["lastSeenAt"] as? String)?.hasPrefix("2026-12-05T10:00:00") == true, "\(item)")
            #expect((item["occurredAt"] as? String)?.hasPrefix("2026-12-01T10:00:00") == true, "\(item)")
        }
    }
}
