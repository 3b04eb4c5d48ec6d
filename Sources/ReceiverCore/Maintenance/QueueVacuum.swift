import Postgres

/// Vacuum, within a second, for the tables that work as queues.
///
/// A webhook delivery's row is rewritten when it is claimed and again when its outcome
/// is recorded, and each claim reads the pending deliveries' index from its oldest
/// entry: past the entry of every delivery finished since the table was last vacuumed,
/// which stays in the index, dead, until vacuum removes it. Autovacuum visits a database
/// once per `autovacuum_naptime` (a minute by default); by then an endpoint taking
/// thousands of deliveries a second has left hundreds of thousands of dead entries
/// for every claim to walk past (in the benchmark, 242,844 dead rows beside 162,414
/// live ones before autovacuum first came: BENCHMARKS.md, "Webhook delivery").
///
/// The tables that say they are queues — those created with their own, smaller
/// `autovacuum_vacuum_scale_factor` storage parameter (migration 0005) — are vacuumed
/// from here as soon as their dead rows pass that fraction of the table and
/// `minimumDead`: the threshold autovacuum would use, without its wait. Other tables are
/// left to autovacuum.
package enum QueueVacuum {
    /// Dead rows below which a table is left to autovacuum: walking this many dead index
    /// entries costs a claim little, and vacuuming more often would cost more.
    static let minimumDead = 10_000

    /// Vacuums the queue tables of the current schema past their threshold; returns their
    /// names. A table another vacuum holds (autovacuum, another instance's run) is skipped,
    /// not waited for (`SKIP_LOCKED`). No lock of its own makes instances take turns: VACUUM
    /// cannot run in a transaction, and a session's advisory lock would stay behind on
    /// whichever server connection a pooler in transaction mode (README, "Deployment") gave
    /// its statement; two instances seeing the same dead rows at once cost one vacuum that
    /// finds little to do.
    package static func run(minimumDead: Int = minimumDead, on connection: PostgresConnection) throws -> [String] {
        let due = try connection.query("""
            SELECT s.relname FROM pg_stat_user_tables s
            JOIN pg_class c ON c.oid = s.relid
            CROSS JOIN LATERAL pg_options_to_table(c.reloptions) o
            WHERE s.schemaname = current_schema() AND o.option_name = 'autovacuum_vacuum_scale_factor'
              AND s.n_dead_tup >= greatest(\(minimumDead), o.option_value::float8 * greatest(c.reltuples, 0))
              AND pg_has_role(c.relowner, 'USAGE')  -- VACUUM only skips (with a warning) a table it may not vacuum
            ORDER BY s.relname
            """).map { try $0.decode("relname", as: String.self) }
        for table in due {
            try connection.execute("VACUUM (SKIP_LOCKED) \(identifier: table)")
        }
        return due
    }
}
