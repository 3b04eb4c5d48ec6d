import Postgres

/// Whether the database can take this server's writes: reachable, and the
/// primary rather than a standby in recovery (a URL without
/// `target_session_attrs=read-write` may land on one during a failover).
package enum DatabaseReadiness {
    package static func check(on connection: PostgresConnection) throws(ReceiverError) {
        let inRecovery: Bool
        do {
            inRecovery = try connection.query("SELECT pg_is_in_recovery() AS standby")[0].decode("standby")
        } catch {
            throw ReceiverError.databaseUnavailable(detail: "The database is unreachable; the receiver is not ready.")
        }
        if inRecovery {
            throw ReceiverError.databaseUnavailable(detail: "The database is a standby in recovery (no writable primary); the receiver is not ready.")
        }
    }
}
