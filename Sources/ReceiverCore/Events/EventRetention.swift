import Foundation
import Postgres

/// Keeping the event log to its retention period: partitions are created ahead
/// and dropped whole once past it. Safe to run from several instances at once:
/// one runs, the others find the lock taken and skip. (The other tables' retention
/// is `RowRetention`; both run in `serve`'s maintenance loop.)
package enum EventRetention {
    /// What one run did.
    package struct Report: Sendable, Equatable {
        /// false when another instance was running it.
        package var ran: Bool
        package var partitionsCreated: [String] = []
        package var partitionsDropped: [String] = []
    }

    /// How many days ahead partitions exist.
    static let daysAhead = 7
    /// The advisory lock that makes one instance at a time run this.
    static let lockKey: Int64 = 0x636F_6E6E_6576_7473  // "connevts"

    /// Runs the maintenance once; `now` is for tests that look at other days.
    package static func run(retention: Duration, now: Date? = nil, on connection: PostgresConnection) throws -> Report {
        try connection.transaction { connection in
            // Partition DDL waits for every running statement on events; it must never
            // hold up the saves behind it for long. Lock timeouts make this run give up instead.
            try connection.execute("SET LOCAL lock_timeout = '2s'")
            guard try connection.query("SELECT pg_try_advisory_xact_lock(\(lockKey)) AS locked")[0].decode("locked", as: Bool.self) else {
                return Report(ran: false)
            }
            var report = Report(ran: true)
            let today = try connection.query("SELECT coalesce(\(now)::timestamptz, now())::date::text AS today")[0].decode("today", as: String.self)
            let existing = Set(try connection.query("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'events'::regclass
                """).map { try $0.decode("relname", as: String.self) })

            for offset in 0...daysAhead {
                let day = try connection.query("SELECT (\(today)::date + \(offset)::integer)::text AS day")[0].decode("day", as: String.self)
                let name = partitionName(day)
                guard !existing.contains(name) else { continue }
                try connection.execute("""
                    CREATE TABLE \(identifier: name) PARTITION OF events
                    FOR VALUES FROM (\(unescaped: "'\(day)'")) TO (\(unescaped: "'\(day)'::date + 1"))
                    """)
                report.partitionsCreated.append(name)
            }

            let cutoff = try connection.query("""
                SELECT (coalesce(\(now)::timestamptz, now()) - \(retention.secondsText)::interval)::date::text AS cutoff
                """)[0].decode("cutoff", as: String.self)
            // A day's partition goes once the whole day is older than retention keeps.
            for name in existing.sorted() where name != "events_default" {
                guard let day = dayOf(name), day < cutoff else { continue }
                try connection.execute("DROP TABLE \(identifier: name)")
                report.partitionsDropped.append(name)
            }
            try connection.execute("DELETE FROM events_default WHERE occurred_at < \(cutoff)::date")
            try connection.execute("""
                UPDATE event_retention SET purged_before = greatest(purged_before, \(cutoff)::date::timestamptz)
                """)
            return report
        }
    }

    /// How far the oldest running transaction holds the change feed back: seconds
    /// since the oldest transaction with an id began (0 when there is none).
    package static func horizonLag(on connection: PostgresConnection) throws -> Double {
        try connection.query("""
            SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)::float8 AS lag
            FROM pg_stat_activity WHERE backend_xid IS NOT NULL
            """)[0].decode("lag")
    }

    /// `events_20261206` for `2026-12-06`.
    static func partitionName(_ day: String) -> String {
        "events_" + day.replacingOccurrences(of: "-", with: "")
    }

    /// `2026-12-06` for `events_20261206`; nil for any other name.
    static func dayOf(_ name: String) -> String? {
        let digits = name.dropFirst("events_".count)
        guard name.hasPrefix("events_"), digits.count == 8, digits.allSatisfy(\.isNumber) else { return nil }
        return "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))"
    }
}

extension Duration {
    /// `"2592000 seconds"`, for an `interval`.
    var secondsText: String { "\(components.seconds) seconds" }
}
