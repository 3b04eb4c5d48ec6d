import Foundation
import Postgres

/// Deleting the rows of the tables that would otherwise only grow: idempotency
/// keys past their 24 hours (the contract's window), sync errors resolved longer
/// ago than their retention, and the audit trail past its own.
///
/// Bounded: each table loses at most `batchSize` rows a transaction and
/// `batchesPerRound` transactions a round, oldest first, through the index on its
/// time column; a round that stopped at its bound says so, and the caller runs the
/// next one soon. Safe with any number of instances at once: a batch takes only
/// rows no other transaction holds (`FOR UPDATE SKIP LOCKED`), so two rounds share
/// the work instead of waiting on or deadlocking each other.
public enum RowRetention {
    /// How long rows are kept; nil: for ever.
    public struct Settings: Sendable, Equatable {
        /// Sync errors, counted from their resolution; open ones are never deleted.
        public var resolvedSyncErrors: Duration?
        /// Audit events, counted from when they happened.
        public var auditTrail: Duration?

        public init(resolvedSyncErrors: Duration? = .seconds(30 * 86_400), auditTrail: Duration? = .seconds(365 * 86_400)) {
            (self.resolvedSyncErrors, self.auditTrail) = (resolvedSyncErrors, auditTrail)
        }
    }

    /// What one round deleted, by table, and whether it stopped at its bound.
    package struct Report: Sendable, Equatable {
        package var deleted: [String: Int] = [:]
        package var unfinished = false
    }

    /// One table's rule: rows of `table` whose `column` is older than `age`
    /// (nil: kept for ever), deleted by their primary key `key`.
    struct Purge {
        var table: String
        var key: [String]
        var column: String
        var age: Duration?
    }

    static func purges(_ settings: Settings) -> [Purge] {
        [
            Purge(table: "idempotency_keys", key: ["client_id", "key"], column: "created_at", age: Idempotency.window),
            Purge(table: "sync_errors", key: ["client_id", "id"], column: "resolved_at", age: settings.resolvedSyncErrors),
            Purge(table: "audit_events", key: ["client_id", "id"], column: "occurred_at", age: settings.auditTrail),
        ]
    }

    /// Runs one round; `now` is for tests that look at other days.
    package static func run(
        _ settings: Settings, batchSize: Int = 1_000, batchesPerRound: Int = 50, now: Date? = nil, on connection: PostgresConnection
    ) throws -> Report {
        var report = Report()
        for purge in purges(settings) {
            guard let age = purge.age else { continue }
            var deleted = 0
            for batch in 1...batchesPerRound {
                let count = try delete(purge, olderThan: age, limit: batchSize, now: now, on: connection)
                deleted += count
                if count < batchSize { break }
                if batch == batchesPerRound { report.unfinished = true }
            }
            report.deleted[purge.table] = deleted
        }
        return report
    }

    /// One batch, in a transaction of its own (autocommit): the oldest rows past
    /// `age` that nobody else holds. `ORDER BY` the time column makes it a range of
    /// that column's index, so a batch costs the rows it deletes, not the table.
    private static func delete(_ purge: Purge, olderThan age: Duration, limit: Int, now: Date?, on connection: PostgresConnection) throws -> Int {
        let key = purge.key.joined(separator: ", ")
        let matches = purge.key.map { "t.\($0) = d.\($0)" }.joined(separator: " AND ")
        return try connection.execute("""
            WITH doomed AS (
                SELECT \(unescaped: key) FROM \(identifier: purge.table)
                WHERE \(identifier: purge.column) < coalesce(\(now)::timestamptz, now()) - \(age.secondsText)::interval
                ORDER BY \(identifier: purge.column)
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            DELETE FROM \(identifier: purge.table) t USING doomed d WHERE \(unescaped: matches)
            """)
    }
}
