import Postgres

/// Reading the sync errors that `SyncErrors` records, for the admins.
public enum SyncErrorStore {
    /// A client's open sync errors (`resolved_at IS NULL`), oldest first, those
    /// after the id `after`, at most `limit`.
    public static func listOpen(clientId: String, after: Int?, limit: Int, on connection: PostgresConnection) throws -> [SyncErrorRecord] {
        try connection.query("""
            SELECT \(unescaped: SyncErrorRecord.columns) FROM sync_errors
            WHERE client_id = \(clientId) AND resolved_at IS NULL AND (\(after)::bigint IS NULL OR id > \(after))
            ORDER BY id
            LIMIT \(limit)
            """).map(SyncErrorRecord.init(row:))
    }
}
