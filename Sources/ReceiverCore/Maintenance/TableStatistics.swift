import Postgres

/// Statistics for tables that are young and growing fast: a new installation, a
/// new day's events partition.
///
/// Every statement is prepared once per session and its plan kept until the
/// statistics of a table it reads change; the save path forces generic plans. A
/// plan made while a table was nearly empty (or never analyzed) scans what was
/// then a page or two, and keeps scanning after the table has grown to a million
/// rows, until autovacuum first analyzes it — a minute or more later, the autovacuum
/// cycle, and for a table that doubled by the time of its next analyze only at
/// each tenth more. Analyzing each table whenever it has changed by as many rows as
/// it had at its last analyze (at least `minimumChanges`) makes the statistics
/// follow a young table's growth: a handful of cheap ANALYZEs while it grows from
/// nothing, none once it is big (autovacuum's own threshold comes first then). Each
/// one replaces the plans of the statements that read the table, in every session.
package enum TableStatistics {
    /// Changes below which a table is left to autovacuum: a small table's plans
    /// are cheap whatever they are.
    static let minimumChanges = 1_000
    /// The advisory lock that makes one instance at a time analyze.
    static let lockKey: Int64 = 0x636F_6E6E_7374_6174  // "connstat"

    /// Analyzes the tables of the current schema (those this role owns) that changed
    /// by at least as many rows as they had (and `minimumChanges`) since their last analyze; returns
    /// their names. Skips when another instance is at it, or a table is locked by
    /// something that would make it wait (autovacuum analyzing it already).
    package static func refreshGrowing(minimumChanges: Int = minimumChanges, on connection: PostgresConnection) throws -> [String] {
        try connection.transaction { connection in
            try connection.execute("SET LOCAL lock_timeout = '100ms'")
            guard try connection.query("SELECT pg_try_advisory_xact_lock(\(lockKey)) AS locked")[0].decode("locked", as: Bool.self) else {
                return []
            }
            let growing = try connection.query("""
                SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze >= greatest(\(minimumChanges), c.reltuples)
                  AND pg_has_role(c.relowner, 'USAGE')  -- ANALYZE only skips (with a warning) a table it may not analyze
                ORDER BY s.relname
                """).map { try $0.decode("relname", as: String.self) }
            var analyzed: [String] = []
            for table in growing {
                // A table another transaction holds (autovacuum, DDL) is left for the next round.
                try connection.execute("SAVEPOINT analyze_one")
                do {
                    try connection.execute("ANALYZE \(identifier: table)")
                    try connection.execute("RELEASE SAVEPOINT analyze_one")
                    analyzed.append(table)
                } catch let error as PostgresError where error.code == .lockNotAvailable {
                    try connection.execute("ROLLBACK TO SAVEPOINT analyze_one")
                }
            }
            return analyzed
        }
    }
}
