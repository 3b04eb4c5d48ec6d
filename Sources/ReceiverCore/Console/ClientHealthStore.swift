import Foundation
import Postgres

/// SQL for `client_call_health`: written by ``ClientCallRecorder``, read with
/// the open sync errors and the credential's age for the admin API.
package enum ClientHealthStore {
    /// Upserts the calls noted per username, one statement for all. Usernames
    /// that are no Connector credential (a reader's, one never issued) are
    /// dropped by the join; each time is kept only if later than the stored one,
    /// so instances flushing in any order agree. Rows are written in client order,
    /// so two instances flushing at once cannot deadlock.
    static func write(_ calls: [(username: String, pending: ClientCallRecorder.Pending)], on connection: PostgresConnection) throws {
        let usernames = calls.map(\.username)
        let clientIds = usernames.map { ClientCredential.clientId(fromUsername: $0) }
        let successes = calls.map { $0.pending.lastSuccess?.postgresText }
        let failures = calls.map { $0.pending.lastFailure?.postgresText }
        let statuses = calls.map { $0.pending.failureStatus.map(String.init) }
        try connection.execute("""
            INSERT INTO client_call_health AS h (client_id, last_success_at, last_failure_at, last_failure_status)
            SELECT cr.client_id, max(u.success), max(u.failure), (array_agg(u.status ORDER BY u.failure DESC NULLS LAST))[1]
            FROM unnest(\(PostgresBinding.array(usernames, of: .text)!), \(PostgresBinding.array(clientIds, of: .text)!),
                        \(PostgresBinding.array(successes, of: .timestamptz)!), \(PostgresBinding.array(failures, of: .timestamptz)!),
                        \(PostgresBinding.array(statuses, of: .int4)!)) AS u(username, client_id, success, failure, status)
            JOIN credentials cr ON cr.client_id = u.client_id AND cr.username = u.username AND cr.role = 'connector'
            GROUP BY cr.client_id
            ORDER BY cr.client_id
            ON CONFLICT (client_id) DO UPDATE SET
                last_success_at = GREATEST(h.last_success_at, EXCLUDED.last_success_at),
                last_failure_at = GREATEST(h.last_failure_at, EXCLUDED.last_failure_at),
                last_failure_status = CASE
                    WHEN EXCLUDED.last_failure_at IS NOT NULL AND EXCLUDED.last_failure_at >= coalesce(h.last_failure_at, '-infinity')
                    THEN EXCLUDED.last_failure_status ELSE h.last_failure_status END
            """)
    }

    /// The health of each of `clientIds` that exists.
    package static func read(clientIds: [String], on connection: PostgresConnection) throws -> [String: ClientHealth] {
        guard !clientIds.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT c.client_id, h.last_success_at, h.last_failure_at, h.last_failure_status,
                   (SELECT count(*) FROM sync_errors e WHERE e.client_id = c.client_id AND e.resolved_at IS NULL) AS open_sync_errors,
                   (SELECT cr.created_at FROM credentials cr
                    WHERE cr.client_id = c.client_id AND cr.revoked_at IS NULL AND cr.role = 'connector') AS credential_issued_at
            FROM clients c LEFT JOIN client_call_health h ON h.client_id = c.client_id
            WHERE c.client_id = ANY(\(clientIds))
            """)
        var health: [String: ClientHealth] = [:]
        for row in rows {
            health[try row.decode("client_id")] = ClientHealth(
                lastSuccessAt: try row.decode("last_success_at"), lastFailureAt: try row.decode("last_failure_at"),
                lastFailureStatus: try row.decode("last_failure_status"), openSyncErrors: try row.decode("open_sync_errors"),
                credentialIssuedAt: try row.decode("credential_issued_at"))
        }
        return health
    }
}
