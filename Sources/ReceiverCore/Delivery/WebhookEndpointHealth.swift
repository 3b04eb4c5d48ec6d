import Foundation
import Postgres

/// The slow rules of endpoint health, run every few seconds by one instance at a time or by
/// several harmlessly (each change is a conditional UPDATE that only one instance makes):
/// the warning before auto-disable, auto-disable, and forgetting finished deliveries.
package enum WebhookEndpointHealth {
    /// An endpoint warned about or disabled by a sweep.
    package struct Change: Sendable, Equatable {
        package var clientId: String
        package var endpointId: UUID
        package var failingSince: Date
    }

    /// What one sweep did.
    package struct Report: Sendable {
        package var warned: [Change] = []
        package var disabled: [Change] = []
        package var finishedDeleted = 0
    }

    /// Records the warning for every enabled endpoint failing for `warnAfter` and not yet
    /// warned (audited as `webhook.disable_warning`), and disables every endpoint failing for
    /// `disableAfter` whose warning was recorded in an earlier sweep (audited as
    /// `webhook.disable`, reason `failing`): the warning always comes first.
    package static func sweep(warnAfter: Duration, disableAfter: Duration, on connection: PostgresConnection) throws -> Report {
        try connection.transaction { connection in
            var report = Report()
            report.disabled = try connection.query("""
                UPDATE webhook_endpoints
                SET enabled = false, disabled_reason = 'failing', disabled_at = now(), updated_at = now(), version = version + 1
                WHERE enabled AND failing_since < now() - \(disableAfter.secondsText)::interval AND warned_at IS NOT NULL
                RETURNING client_id, id, failing_since
                """).map(change)
            report.warned = try connection.query("""
                UPDATE webhook_endpoints SET warned_at = now()
                WHERE enabled AND failing_since < now() - \(warnAfter.secondsText)::interval AND warned_at IS NULL
                RETURNING client_id, id, failing_since
                """).map(change)
            for change in report.warned {
                try AuditLog.record("webhook.disable_warning", clientId: change.clientId, changes: [
                    "id": .string(change.endpointId.lowercasedString), "failingSince": .string(Timestamp.format(change.failingSince)),
                    "disableAfterSeconds": .number(Double(disableAfter.components.seconds)),
                ], by: WebhookClaims.auditContext, on: connection)
            }
            for change in report.disabled {
                try AuditLog.record("webhook.disable", clientId: change.clientId, changes: [
                    "id": .string(change.endpointId.lowercasedString), "disabledReason": .string(WebhookEndpoint.DisabledReason.failing.rawValue),
                    "failingSince": .string(Timestamp.format(change.failingSince)),
                ], by: WebhookClaims.auditContext, on: connection)
            }
            return report
        }
    }

    /// Deletes up to `limit` deliveries (with their attempts) finished more than `keep` ago.
    package static func forgetFinished(olderThan keep: Duration, limit: Int = 10_000, on connection: PostgresConnection) throws -> Int {
        try connection.query("""
            WITH gone AS (
                DELETE FROM webhook_deliveries WHERE (endpoint_id, id) IN (
                    SELECT endpoint_id, id FROM webhook_deliveries
                    WHERE status <> 'pending' AND finished_at < now() - \(keep.secondsText)::interval
                    LIMIT \(limit))
                RETURNING 1
            )
            SELECT count(*) AS deleted FROM gone
            """)[0].decode("deleted")
    }

    /// An endpoint's state for `/metrics`.
    package struct State: Sendable {
        package var clientId: String
        package var endpointId: UUID
        package var enabled: Bool
        /// Seconds every attempt has failed for; 0 when it succeeds.
        package var failingSeconds: Double
        package var pending: Int
        /// Seconds since the oldest undelivered event of the endpoint was recorded; 0 when none.
        package var oldestUndeliveredSeconds: Double
    }

    /// Every endpoint's state: one statement.
    package static func states(on connection: PostgresConnection) throws -> [State] {
        try connection.query("""
            SELECT e.client_id, e.id, e.enabled,
                   coalesce(extract(epoch FROM now() - e.failing_since), 0)::float8 AS failing_seconds,
                   coalesce(d.pending, 0) AS pending, coalesce(extract(epoch FROM now() - d.oldest), 0)::float8 AS oldest_seconds
            FROM webhook_endpoints e
            LEFT JOIN LATERAL (
                SELECT count(*)::int AS pending, min(occurred_at) AS oldest FROM webhook_deliveries
                WHERE endpoint_id = e.id AND status = 'pending'
            ) d ON true
            """).map { row in
            State(clientId: try row.decode("client_id"), endpointId: try row.decode("id"), enabled: try row.decode("enabled"),
                  failingSeconds: try row.decode("failing_seconds"), pending: try row.decode("pending"),
                  oldestUndeliveredSeconds: try row.decode("oldest_seconds"))
        }
    }

    private static func change(_ row: PostgresRow) throws -> Change {
        Change(clientId: try row.decode("client_id"), endpointId: try row.decode("id"), failingSince: try row.decode("failing_since"))
    }
}
