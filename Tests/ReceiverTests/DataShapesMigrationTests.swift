import Foundation
import Postgres
import TestSupport
import Testing

/// Migration 0007 on a database in service: the repeated open errors it finds are
/// merged into one a record, call and problem type, counted, before the unique
/// index that keeps them so is made.
@Suite struct DataShapesMigrationTests {
    @Test func repeatedOpenErrorsAreMergedWithTheirCount() throws {
        try TestDatabase.withDatabase { configuration in
            let connection = try PostgresConnection.connect(configuration, logger: TestDatabase.logger)
            defer { connection.close() }
            // The migrations before 0007, as an installation had them.
            let before = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: before, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: before) }
            let all = URL(fileURLWithPath: TestDatabase.migrationsDirectory)
            for file in try FileManager.default.contentsOfDirectory(atPath: all.path) where file < "0007" {
                try FileManager.default.copyItem(at: all.appendingPathComponent(file), to: before.appendingPathComponent(file))
            }
            _ = try Migrator(directory: before, logger: TestDatabase.logger).migrate(on: connection)
            try connection.simpleExecute("""
                INSERT INTO clients (client_id, name, connection) VALUES ('acme', 'Acme', '{}');
                INSERT INTO sync_errors (client_id, operation, resource, external_id, record_id, problem, request_id, occurred_at) VALUES
                  ('acme', 'PUT x', 'prospect', 'crm-1', NULL, '{"type": "t1", "n": 1}', 'r1', '2026-12-01 10:00Z'),
                  ('acme', 'PUT x', 'prospect', 'crm-1', NULL, '{"type": "t1", "n": 2}', 'r2', '2026-12-02 10:00Z'),
                  ('acme', 'PUT x', 'prospect', 'crm-1', NULL, '{"type": "t1", "n": 3}', 'r3', '2026-12-03 10:00Z'),
                  ('acme', 'PUT x', 'prospect', 'crm-1', NULL, '{"type": "t2"}', 'r4', '2026-12-04 10:00Z'),
                  ('acme', 'POST y', 'prospect', NULL, NULL, '{"type": "t1"}', 'r5', '2026-12-04 10:00Z'),
                  ('acme', 'POST y', 'prospect', NULL, NULL, '{"type": "t1"}', 'r6', '2026-12-04 10:00Z'),
                  ('acme', 'PATCH z', 'prospect', NULL, '3f9a4a8e-1111-4111-8111-111111111111', '{"type": "t1"}', 'r7', '2026-12-04 10:00Z'),
                  ('acme', 'PATCH z', 'prospect', NULL, '3f9a4a8e-1111-4111-8111-111111111111', '{"type": "t1"}', 'r8', '2026-12-05 10:00Z');
                INSERT INTO sync_errors (client_id, operation, resource, external_id, problem, request_id, occurred_at, resolved_at)
                VALUES ('acme', 'PUT x', 'prospect', 'crm-1', '{"type": "t1"}', 'resolved', '2026-11-30 10:00Z', now())
                """)
            _ = try Migrator(directory: all, logger: TestDatabase.logger).migrate(on: connection)

            let rows = try connection.query("""
                SELECT request_id || ' ' || rejections || ' ' || to_char(occurred_at AT TIME ZONE 'UTC', 'MM-DD')
                       || ' ' || to_char(last_seen_at AT TIME ZONE 'UTC', 'MM-DD') || ' ' || coalesce(problem->>'n', '-')
                FROM sync_errors ORDER BY id
                """).map { try $0.decode(0, as: String.self) }
            #expect(rows == [
                "r3 3 12-01 12-03 3",  // the oldest row kept, with the newest problem and request id
                "r4 1 12-04 12-04 -",
                "r5 1 12-04 12-04 -", "r6 1 12-04 12-04 -",  // naming no record: each its own
                "r8 2 12-04 12-05 -",
                "resolved 1 11-30 11-30 -",  // resolved: left as it was
            ])
        }
    }
}
