import Foundation
import Postgres

/// Claiming due deliveries and recording what their attempts came to: the engine's two
/// statements per pass, each for many deliveries at once (migration 0005 says what a claim is).
package enum WebhookClaims {
    /// Who records the engine's own changes (a `410`, auto-disable) in the audit trail.
    package static let auditContext = AuditContext(actor: "webhook-engine")

    /// Claims, for each `(endpoint, quota)`, up to `quota` of its due pending deliveries, oldest
    /// due first, for `lease`, as `instance`. Skips deliveries another instance holds (locked
    /// now, or claimed and not lapsed), deliveries of a record with an earlier pending delivery
    /// to the same endpoint (per-record order), and endpoints that are disabled.
    package static func claim(
        _ quotas: [(endpointId: UUID, quota: Int)], instance: String, lease: Duration, on connection: PostgresConnection
    ) throws -> [ClaimedDelivery] {
        guard !quotas.isEmpty else { return [] }
        var rows = PostgresColumns(["endpoint_id", "quota"])
        for (endpointId, quota) in quotas { rows.append([PostgresBinding(endpointId), PostgresBinding(quota)]) }
        return try connection.query("""
            WITH picked AS (
                SELECT d.endpoint_id, d.id
                FROM \(rows: rows, as: "q") CROSS JOIN LATERAL (
                    SELECT d.endpoint_id, d.id FROM webhook_deliveries d
                    WHERE d.endpoint_id = q.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                      AND (d.claimed_until IS NULL OR d.claimed_until < now())
                      -- The record's earliest pending delivery to the endpoint is this one. A
                      -- correlated subquery, not NOT EXISTS: an anti-join's plan, made when the
                      -- table's statistics were stale, scanned every pending row per candidate.
                      -- "NOT IN (succeeded, failed)" is "pending", spelled as the predicate of
                      -- webhook_deliveries_record, the one index that answers it (migration 0005).
                      AND d.id = (
                          SELECT min(p.id) FROM webhook_deliveries p
                          WHERE p.endpoint_id = d.endpoint_id AND p.record_id = d.record_id
                            AND p.status NOT IN ('succeeded', 'failed'))
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT q.quota
                    FOR UPDATE SKIP LOCKED
                ) d
            )
            UPDATE webhook_deliveries d
            SET claimed_by = \(instance), claimed_until = now() + \(lease.secondsText)::interval
            FROM webhook_endpoints e
            -- By the primary key's arrays rather than a join with picked: the generic plan
            -- guesses picked large (its LIMIT is a column) and would scan the whole table.
            WHERE d.endpoint_id = ANY(ARRAY(SELECT DISTINCT endpoint_id FROM picked))
              AND d.id = ANY(ARRAY(SELECT id FROM picked))
              AND e.id = d.endpoint_id AND e.enabled
            RETURNING d.client_id, d.endpoint_id, d.id, d.event_id, d.body, d.schedule_step, e.url, e.secret,
                      CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret
            """).map(ClaimedDelivery.init(row:))
    }

    /// An endpoint the results disabled (it answered `410`).
    package struct Disabled: Sendable, Equatable {
        package var clientId: String
        package var endpointId: UUID
    }

    /// Records attempts and outcomes in one statement, for the claims `instance` still holds
    /// (a claim that lapsed and was taken over is the other instance's to record): each
    /// attempt in the delivery log, each delivery's new state, and each endpoint's — last
    /// success, failing since, disabled by a `410` (audited as `webhook.disable`, reason `gone`).
    /// Returns the endpoints disabled now.
    @discardableResult
    package static func record(_ results: [WebhookAttemptResult], instance: String, on connection: PostgresConnection) throws -> [Disabled] {
        guard !results.isEmpty else { return [] }
        var rows = PostgresColumns(["endpoint_id", "delivery_id", "outcome", "started_at", "status", "latency_ms", "error", "retry_at"])
        for result in results {
            rows.append([
                PostgresBinding(result.delivery.endpointId), PostgresBinding(result.delivery.id), PostgresBinding(result.outcome.rawValue),
                PostgresBinding(result.startedAt), PostgresBinding(result.status), PostgresBinding(result.latencyMilliseconds),
                PostgresBinding(result.error), PostgresBinding(result.retryAt),
            ])
        }
        let statement: PostgresQuery = """
            WITH o AS (
                SELECT * FROM \(rows: rows, as: "o")
            ), updated AS (
                UPDATE webhook_deliveries d
                SET status = CASE o.outcome WHEN 'succeeded' THEN 'succeeded' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
                    attempts = d.attempts + CASE WHEN o.outcome = 'released' THEN 0 ELSE 1 END,
                    schedule_step = d.schedule_step + CASE WHEN o.outcome IN ('retry', 'failed') THEN 1 ELSE 0 END,
                    next_attempt_at = coalesce(o.retry_at, d.next_attempt_at),
                    claimed_by = NULL, claimed_until = NULL,
                    finished_at = CASE WHEN o.outcome IN ('succeeded', 'failed') THEN now() END
                FROM o
                -- By the primary key, whatever the statistics say. A delivery claimed by this
                -- instance is pending (recording an outcome clears the claim), so the status is
                -- not asked: with "status = 'pending'" here the planner could read the pending
                -- deliveries' index instead, and did whenever the table's statistics were taken
                -- when few were pending: every pass then read every pending delivery of the
                -- endpoint, 127 ms a pass with 50,000 waiting.
                WHERE d.endpoint_id = o.endpoint_id AND d.id = o.delivery_id AND d.claimed_by = \(instance)
                RETURNING d.endpoint_id, d.id, d.attempts, o.outcome, o.started_at, o.status, o.latency_ms, o.error
            ), logged AS (
                INSERT INTO webhook_attempts (endpoint_id, delivery_id, attempt, at, status, latency_ms, error)
                SELECT endpoint_id, id, attempts, started_at, status, latency_ms, error FROM updated WHERE outcome <> 'released'
                ON CONFLICT DO NOTHING
            ), s AS (
                SELECT endpoint_id,
                       max(started_at) FILTER (WHERE outcome = 'succeeded') AS last_success,
                       max(started_at) FILTER (WHERE outcome IN ('retry', 'failed', 'gone')) AS last_failure,
                       min(started_at) FILTER (WHERE outcome IN ('retry', 'failed', 'gone')) AS first_failure,
                       bool_or(outcome = 'gone') AS gone
                FROM updated GROUP BY endpoint_id
            ), changed AS (
                UPDATE webhook_endpoints e
                SET last_success_at = greatest(e.last_success_at, s.last_success),
                    failing_since = CASE
                        WHEN s.last_success IS NOT NULL AND (s.last_failure IS NULL OR s.last_success >= s.last_failure) THEN NULL
                        WHEN s.last_success IS NOT NULL THEN s.last_failure
                        ELSE coalesce(e.failing_since, s.first_failure) END,
                    warned_at = CASE WHEN s.last_success IS NOT NULL AND (s.last_failure IS NULL OR s.last_success >= s.last_failure)
                                     THEN NULL ELSE e.warned_at END,
                    enabled = e.enabled AND NOT s.gone,
                    disabled_reason = CASE WHEN e.enabled AND s.gone THEN 'gone' ELSE e.disabled_reason END,
                    disabled_at = CASE WHEN e.enabled AND s.gone THEN now() ELSE e.disabled_at END
                FROM s, webhook_endpoints before
                WHERE e.id = s.endpoint_id AND before.id = s.endpoint_id
                  -- Only what changes: a busy endpoint's successes would otherwise rewrite its row on every pass.
                  AND (s.gone OR s.last_failure IS NOT NULL OR e.failing_since IS NOT NULL OR e.last_success_at IS NULL
                       OR e.last_success_at < s.last_success - interval '1 second')
                RETURNING e.client_id, e.id, before.enabled AND s.gone AS disabled_now
            )
            SELECT client_id, id FROM changed WHERE disabled_now
            """
        // The plan made for any values is the one wanted: o's rows, each finding its delivery by
        // the primary key. No custom plans (SET LOCAL plan_cache_mode) here: they would apply
        // to the foreign key's check of each attempt's row too, planning it again for every
        // row, and its plan made for the values of a new endpoint read the endpoint's other
        // index: 3.7 ms a row, 1.9 s for a pass of 512 (auto_explain during bench/run.py).
        let changed = try connection.begin(with: [statement])[0]
        do {
            let disabled = try changed.map { Disabled(clientId: try $0.decode("client_id"), endpointId: try $0.decode("id")) }
            for endpoint in disabled {
                try AuditLog.record("webhook.disable", clientId: endpoint.clientId, changes: [
                    "id": .string(endpoint.endpointId.lowercasedString), "disabledReason": .string(WebhookEndpoint.DisabledReason.gone.rawValue),
                ], by: auditContext, on: connection)
            }
            _ = try connection.commit(after: [])
            return disabled
        } catch {
            connection.rollback()
            throw error
        }
    }
}
