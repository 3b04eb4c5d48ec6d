import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The upkeep `serve` runs beside the requests: retention of the tables that would
/// otherwise only grow, and statistics for the tables that grow fast.
@Suite struct MaintenanceTests {
    /// Of each table, rows either side of its retention: `old-…` past it, `new-…` within.
    static func fillBothSidesOfRetention(_ server: TestServer, rows: Int = 3) throws {
        try server.pool.withConnection { connection in
            try connection.simpleExecute("""
                INSERT INTO idempotency_keys (client_id, key, operation, request_hash, response_status, response_body, created_at)
                SELECT 'acme', 'old-' || n, 'POST /v1/prospects', 'x', 201, '{}', now() - interval '25 hours' FROM generate_series(1, \(rows)) n
                UNION ALL
                SELECT 'acme', 'new-' || n, 'POST /v1/prospects', 'x', 201, '{}', now() - interval '23 hours' FROM generate_series(1, \(rows)) n;
                INSERT INTO sync_errors (client_id, operation, resource, external_id, problem, occurred_at, resolved_at)
                SELECT 'acme', 'PUT x', 'prospect', 'old-' || n, '{}'::jsonb, now() - interval '100 days', now() - interval '31 days' FROM generate_series(1, \(rows)) n
                UNION ALL
                SELECT 'acme', 'PUT x', 'prospect', 'new-' || n, '{}'::jsonb, now() - interval '100 days', now() - interval '20 days' FROM generate_series(1, \(rows)) n
                UNION ALL
                SELECT 'acme', 'PUT x', 'prospect', 'open-' || n, '{}'::jsonb, now() - interval '100 days', NULL FROM generate_series(1, \(rows)) n;
                INSERT INTO audit_events (client_id, actor, action, request_id, occurred_at)
                SELECT 'acme', 'system', 'test', 'old-' || n, now() - interval '366 days' FROM generate_series(1, \(rows)) n
                UNION ALL
                SELECT 'acme', 'system', 'test', 'new-' || n, now() - interval '300 days' FROM generate_series(1, \(rows)) n
                """)
        }
    }

    /// What is left of the rows `fillBothSidesOfRetention` wrote, by table: their prefixes and counts.
    static func left(_ server: TestServer) throws -> [String] {
        try server.pool.withConnection { connection in
            try connection.query("""
                SELECT t || ' ' || prefix || ' ' || count(*) FROM (
                    SELECT 'idempotency_keys' AS t, split_part(key, '-', 1) AS prefix FROM idempotency_keys
                    UNION ALL SELECT 'sync_errors', split_part(external_id, '-', 1) FROM sync_errors
                    UNION ALL SELECT 'audit_events', split_part(request_id, '-', 1) FROM audit_events WHERE action = 'test'
                ) rows GROUP BY t, prefix
                ORDER BY 1
                """).map { try $0.decode(0, as: String.self) }
        }
    }

    /// `left` once retention has run over `fillBothSidesOfRetention(rows:)`.
    static func withinRetention(_ rows: Int) -> [String] {
        ["audit_events new \(rows)", "idempotency_keys new \(rows)", "sync_errors new \(rows)", "sync_errors open \(rows)"]
    }

    @Test func retentionDeletesOnlyWhatIsPastItsTime() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.fillBothSidesOfRetention(server)
            let report = try server.pool.withConnection { try RowRetention.run(RowRetention.Settings(), on: $0) }
            #expect(report == RowRetention.Report(deleted: ["idempotency_keys": 3, "sync_errors": 3, "audit_events": 3], unfinished: false))
            #expect(try Self.left(server) == Self.withinRetention(3))
            // Nothing more to do; a day later the idempotency keys are past their 24 hours too.
            #expect(try server.pool.withConnection { try RowRetention.run(RowRetention.Settings(), on: $0) }.deleted.values.reduce(0, +) == 0)
            let tomorrow = try server.pool.withConnection {
                try RowRetention.run(RowRetention.Settings(), now: Date().addingTimeInterval(86_400), on: $0)
            }
            #expect(tomorrow.deleted == ["idempotency_keys": 3, "sync_errors": 0, "audit_events": 0])
        }
    }

    @Test func aRetentionOfNoneKeepsEverything() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.fillBothSidesOfRetention(server)
            let forever = RowRetention.Settings(resolvedSyncErrors: nil, auditTrail: nil)
            let report = try server.pool.withConnection { try RowRetention.run(forever, on: $0) }
            #expect(report.deleted == ["idempotency_keys": 3], "the contract's 24 hours are not a setting")
            #expect(try Self.left(server) == [
                "audit_events new 3", "audit_events old 3", "idempotency_keys new 3",
                "sync_errors new 3", "sync_errors old 3", "sync_errors open 3",
            ])
        }
    }

    /// A round deletes at most its batches' worth and says it stopped there; the
    /// next rounds finish the work.
    @Test func aRoundIsBoundedAndTheNextOnesFinish() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.fillBothSidesOfRetention(server, rows: 25)
            let first = try server.pool.withConnection { try RowRetention.run(RowRetention.Settings(), batchSize: 5, batchesPerRound: 2, on: $0) }
            #expect(first.unfinished)
            #expect(first.deleted == ["idempotency_keys": 10, "sync_errors": 10, "audit_events": 10])
            var rounds = 1
            while try server.pool.withConnection({ try RowRetention.run(RowRetention.Settings(), batchSize: 5, batchesPerRound: 2, on: $0) }).unfinished {
                rounds += 1
                try #require(rounds < 10)
            }
            #expect(rounds == 2)
            #expect(try Self.left(server) == Self.withinRetention(25))
        }
    }

    /// Two instances' rounds at once, in small batches so that they meet: neither
    /// fails, waits for the other's rows or deletes anything within retention, and
    /// between them every row past it is gone.
    @Test func twoRoundsAtOnceShareTheWork() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.fillBothSidesOfRetention(server, rows: 2_000)
            let reports = Mutex<[Result<RowRetention.Report, any Error>]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                let result = Result { try server.pool.withConnection { try RowRetention.run(RowRetention.Settings(), batchSize: 50, batchesPerRound: 1_000, on: $0) } }
                reports.withLock { $0.append(result) }
            }
            let done = try reports.withLock { try $0.map { try $0.get() } }
            #expect(done.count == 2)
            for table in ["idempotency_keys", "sync_errors", "audit_events"] {
                #expect(done.map { $0.deleted[table] ?? 0 }.reduce(0, +) == 2_000, "\(table): \(done)")
            }
            #expect(try Self.left(server) == Self.withinRetention(2000))
        }
    }

    /// The loop `serve` runs does both at start: the rows past retention go, the
    /// table that grew is analyzed; and it stops when told.
    @Test func theMaintenanceLoopRunsRetentionAndStatistics() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try Self.fillBothSidesOfRetention(server, rows: 1_000)
            try server.pool.withConnection { _ = try $0.query("SELECT pg_stat_force_next_flush()") }
            let loop = MaintenanceLoop(
                database: server.pool,
                settings: MaintenanceLoop.Settings(eventRetention: .seconds(30 * 86_400), rowRetention: RowRetention.Settings(), interval: .seconds(3_600)),
                logger: TestDatabase.logger)
            loop.start()
            defer { loop.stop() }
            let deadline = Date().addingTimeInterval(20)
            func analyzed() throws -> Bool {
                try server.pool.withConnection {
                    try $0.query("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'sync_errors'")[0].decode(0, as: Bool.self)
                }
            }
            while try Self.left(server).count > 4 || !analyzed(), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(try Self.left(server) == Self.withinRetention(1000))
            #expect(try analyzed())
        }
    }

    /// A table that has grown by as many rows as it had is analyzed (once: then it
    /// has statistics for its size), a table that has not is left to autovacuum.
    @Test func growingTablesAreAnalyzedAndOthersLeftAlone() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            func fill(_ rows: Int) throws {
                try server.pool.withConnection { connection in
                    try connection.simpleExecute("""
                        INSERT INTO idempotency_keys (client_id, key, operation, request_hash, response_status, response_body)
                        SELECT 'acme', gen_random_uuid()::text, 'POST /v1/prospects', 'x', 201, '{}' FROM generate_series(1, \(rows));
                        SELECT pg_stat_force_next_flush()
                        """)
                }
            }
            // The statistics views see a session's changes once it reports them, just after its statement.
            func changes() throws -> Int {
                try server.pool.withConnection {
                    try $0.query("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'idempotency_keys'")[0].decode(0, as: Int.self)
                }
            }
            func refresh(expecting changed: Int) throws -> [String] {
                let deadline = Date().addingTimeInterval(10)
                while try changes() < changed, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
                return try server.pool.withConnection { try TableStatistics.refreshGrowing(on: $0) }
            }
            try fill(600)
            #expect(try refresh(expecting: 600).isEmpty, "fewer changes than the minimum")
            try fill(600)
            #expect(try refresh(expecting: 1_200) == ["idempotency_keys"])
            #expect(try changes() == 0)
            try fill(1_000)
            #expect(try refresh(expecting: 1_000).isEmpty, "1,000 changes to a table of 1,200")
            try fill(300)
            #expect(try refresh(expecting: 1_300) == ["idempotency_keys"])
        }
    }

    /// One instance at a time: while another holds the lock, a refresh does nothing.
    @Test func anotherInstanceAnalyzingMakesARefreshSkip() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme")
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    INSERT INTO idempotency_keys (client_id, key, operation, request_hash, response_status, response_body)
                    SELECT 'acme', gen_random_uuid()::text, 'POST /v1/prospects', 'x', 201, '{}' FROM generate_series(1, 2000);
                    SELECT pg_stat_force_next_flush()
                    """)
            }
            try server.pool.withConnection { holder in
                try holder.transaction { holder in
                    _ = try holder.query("SELECT pg_advisory_xact_lock(\(TableStatistics.lockKey))")
                    #expect(try server.pool.withConnection { try TableStatistics.refreshGrowing(minimumChanges: 1, on: $0) }.isEmpty)
                }
            }
        }
    }

    /// Dead rows of `table` once they are as `expected` says, or after 10 s: the statistics
    /// see a session's changes once it reports them, just after its statement.
    static func deadRows(_ table: String, _ server: TestServer, until expected: (Int) -> Bool) throws -> Int {
        func dead() throws -> Int {
            try server.pool.withConnection {
                try $0.query("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = \(table)")[0].decode(0, as: Int.self)
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while try !expected(dead()), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return try dead()
    }

    /// Two tables churned alike: the one that says it is a queue (its own autovacuum
    /// scale factor) is vacuumed once its dead rows pass the threshold, the other is
    /// left to autovacuum; and the webhook deliveries say they are a queue.
    @Test func queueTablesAreVacuumedOnceTheirDeadRowsPileUp() throws {
        try TestServer.run { server in
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    CREATE TABLE churning_queue (id int PRIMARY KEY, n int) WITH (autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01);
                    CREATE TABLE churning_table (id int PRIMARY KEY, n int) WITH (autovacuum_enabled = false);
                    INSERT INTO churning_queue SELECT g, 0 FROM generate_series(1, 3000) g;
                    INSERT INTO churning_table SELECT g, 0 FROM generate_series(1, 3000) g;
                    UPDATE churning_queue SET n = 1; UPDATE churning_table SET n = 1;
                    SELECT pg_stat_force_next_flush()
                    """)
            }
            #expect(try Self.deadRows("churning_queue", server) { $0 >= 3000 } == 3000)
            #expect(try server.pool.withConnection { try QueueVacuum.run(minimumDead: 5_000, on: $0) }.isEmpty, "below the minimum")
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    UPDATE churning_queue SET n = 2; UPDATE churning_table SET n = 2;
                    SELECT pg_stat_force_next_flush()
                    """)
            }
            #expect(try Self.deadRows("churning_queue", server) { $0 >= 6000 } >= 6000)
            #expect(try server.pool.withConnection { try QueueVacuum.run(minimumDead: 5_000, on: $0) } == ["churning_queue"])
            #expect(try Self.deadRows("churning_queue", server) { $0 == 0 } == 0)
            #expect(try Self.deadRows("churning_table", server) { $0 >= 6000 } >= 6000, "left to autovacuum")
            let queues = try server.pool.withConnection { connection in
                try connection.query("""
                    SELECT c.relname FROM pg_class c CROSS JOIN LATERAL pg_options_to_table(c.reloptions) o
                    WHERE o.option_name = 'autovacuum_vacuum_scale_factor' AND c.relnamespace = current_schema()::regnamespace
                    """).map { try $0.decode(0, as: String.self) }
            }
            #expect(queues.contains("webhook_deliveries"))
        }
    }

    /// A queue table another vacuum holds is skipped, not waited for; the next run takes it.
    @Test func aTableAnotherVacuumHoldsIsSkippedNotWaitedFor() throws {
        try TestServer.run { server in
            try server.pool.withConnection { connection in
                try connection.simpleExecute("""
                    CREATE TABLE churning_queue (id int PRIMARY KEY, n int) WITH (autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01);
                    INSERT INTO churning_queue SELECT g, 0 FROM generate_series(1, 100) g;
                    UPDATE churning_queue SET n = 1;
                    SELECT pg_stat_force_next_flush()
                    """)
            }
            #expect(try Self.deadRows("churning_queue", server) { $0 >= 100 } == 100)
            try server.pool.withConnection { holder in
                try holder.transaction { holder in
                    // The lock a VACUUM takes, as another instance's or autovacuum's would hold it.
                    try holder.execute("LOCK TABLE churning_queue IN SHARE UPDATE EXCLUSIVE MODE")
                    let started = Date()
                    _ = try server.pool.withConnection { try QueueVacuum.run(minimumDead: 1, on: $0) }
                    #expect(Date().timeIntervalSince(started) < 5, "not waited for")
                }
            }
            #expect(try Self.deadRows("churning_queue", server) { $0 >= 100 } == 100, "skipped")
            #expect(try server.pool.withConnection { try QueueVacuum.run(minimumDead: 1, on: $0) } == ["churning_queue"])
            #expect(try Self.deadRows("churning_queue", server) { $0 == 0 } == 0)
        }
    }
}
