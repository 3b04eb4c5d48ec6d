import Foundation
import Postgres

/// What admins see of and do to an endpoint's deliveries: the delivery log (every attempt,
/// `GET …/deliveries`), resend (one event sent again now) and recover (every delivery that
/// failed since a time sent again now). The one implementation behind the admin API and
/// `connector-receiver turnup webhook deliveries|resend|recover`.
///
/// Resend and recover only put deliveries back into the state the engine claims from
/// (migration 0005): `pending`, due now, with the retry schedule from the start
/// (`schedule_step` 0). The engine then sends them as it sends any other, in per-record order
/// (a resent earlier event of a record goes before a later one still pending) and with the
/// same `webhook-id`; their attempts keep counting on in the log. A delivery an instance holds
/// a claim on keeps its claim: the transfer under way ends and is recorded as usual, so an
/// attempt is never recorded twice nor sent twice at once.
public enum WebhookDeliveryLog {
    /// A delivery's state, the log's `status` filter (the migration says what each means).
    public enum Status: String, Sendable, CaseIterable {
        case pending, succeeded, failed
    }

    /// One line of the log: an attempt of a delivery, or, for a delivery not attempted yet,
    /// the delivery alone (`attempt` and everything about the answer nil).
    public struct Entry: Sendable, Equatable {
        /// Fan-out order: the log's sort key with `attempt`.
        public var deliveryId: Int64
        public var eventId: UUID
        public var eventType: String
        public var deliveryStatus: Status
        /// When the delivery is due next; nil unless it is pending.
        public var nextAttemptAt: Date?
        /// 1 for the first attempt, counting on through resends; nil: not attempted yet.
        public var attempt: Int?
        /// When the attempt's request was started.
        public var at: Date?
        /// The answer's HTTP status; nil when none came (or no attempt yet).
        public var status: Int?
        public var latencyMs: Int?
        /// Why the attempt failed; nil on a 2xx.
        public var error: String?

        init(row: PostgresRow) throws {
            deliveryId = try row.decode("delivery_id")
            eventId = try row.decode("event_id")
            eventType = try row.decode("event_type")
            let state: String = try row.decode("delivery_status")
            guard let status = Status(rawValue: state) else {
                throw PostgresError(kind: .decoding, message: "unknown webhook delivery status \(state)")
            }
            deliveryStatus = status
            nextAttemptAt = status == .pending ? try row.decode("next_attempt_at") : nil
            attempt = try row.decode("attempt")
            at = try row.decode("at")
            self.status = try row.decode("status")
            latencyMs = try row.decode("latency_ms")
            error = try row.decode("error")
        }

        /// The attempt as the admin API shows it.
        public var json: JSONObject {
            [
                "eventId": .string(WebhookDeliveryLog.eventIdText(eventId)),
                "eventType": .string(eventType),
                "attempt": attempt.map { .number(Double($0)) } ?? .null,
                "at": .optional(at.map(Timestamp.format)),
                "status": status.map { .number(Double($0)) } ?? .null,
                "latencyMs": latencyMs.map { .number(Double($0)) } ?? .null,
                "error": .optional(error),
                "deliveryStatus": .string(deliveryStatus.rawValue),
                "nextAttemptAt": .optional(nextAttemptAt.map(Timestamp.format)),
            ]
        }

        /// The cursor key: the delivery, then the attempt (0 for none yet).
        public var sortKey: [String] { [String(deliveryId), String(attempt ?? 0)] }
    }

    /// An event's id as deliveries carry it in `webhook-id` and the body's `id`.
    public static func eventIdText(_ id: UUID) -> String { "evt_" + id.lowercasedString }

    /// The event id of a path or the command line: `evt_<uuid>` as deliveries carry it, or
    /// the bare uuid. nil for anything else (which names no delivery).
    public static func parseEventId(_ text: String) -> UUID? {
        RecordID.parse(text.hasPrefix("evt_") ? String(text.dropFirst(4)) : text)
    }

    /// Where a page of the log starts: after this delivery and attempt.
    package static func after(_ page: Page) throws(ReceiverError) -> (deliveryId: Int64, attempt: Int)? {
        guard let key = page.after else { return nil }
        guard key.count == 2, let delivery = Int64(key[0]), let attempt = Int(key[1]), delivery >= 0, attempt >= 0 else {
            throw .foreignCursor
        }
        return (delivery, attempt)
    }

    /// The log of one endpoint, newest first: each delivery's attempts (latest first), a
    /// delivery not attempted yet as one entry without an attempt. `status` keeps the
    /// deliveries in that state, `eventId` one event's. At most `limit` entries after `after`.
    /// 404 for an unknown client or endpoint (another client's endpoint is unknown).
    public static func list(
        endpointId: UUID, clientId: String, status: Status?, eventId: UUID? = nil,
        after: (deliveryId: Int64, attempt: Int)?, limit: Int, on connection: PostgresConnection
    ) throws -> [Entry] {
        try requireEndpoint(endpointId, clientId: clientId, on: connection)
        return try connection.query(listStatement(
            endpointId: endpointId, clientId: clientId, status: status, eventId: eventId, after: after, limit: limit)).map(Entry.init(row:))
    }

    /// The log's statement (`list`).
    static func listStatement(
        endpointId: UUID, clientId: String, status: Status?, eventId: UUID?, after: (deliveryId: Int64, attempt: Int)?, limit: Int
    ) -> PostgresQuery {
        // The state as text in the statement, not a parameter: only then is the failed
        // deliveries' partial index (migration 0008) proven to serve it.
        let state: PostgresQuery = status.map { "AND d.status = \(unescaped: "'\($0.rawValue)'")" } ?? ""
        // `d.id <= afterDelivery` on its own lets the primary key's index start the scan there.
        return """
            SELECT d.id AS delivery_id, d.event_id, d.event_type, d.status AS delivery_status, d.next_attempt_at,
                   a.attempt, a.at, a.status, a.latency_ms, a.error
            FROM webhook_deliveries d
            LEFT JOIN webhook_attempts a ON a.endpoint_id = d.endpoint_id AND a.delivery_id = d.id
            WHERE d.client_id = \(clientId) AND d.endpoint_id = \(endpointId)
              \(state)
              AND (\(eventId)::uuid IS NULL OR d.event_id = \(eventId))
              AND (\(after?.deliveryId)::bigint IS NULL
                   OR (d.id <= \(after?.deliveryId) AND (d.id, coalesce(a.attempt, 0)) < (\(after?.deliveryId), \(after?.attempt)::integer)))
            ORDER BY d.id DESC, coalesce(a.attempt, 0) DESC
            LIMIT \(limit)
            """
    }

    /// Sends the event's delivery again now, whatever its state (a succeeded one too: the
    /// receiver asked for it again), with the retry schedule from the start. Audited as
    /// `webhook.resend`. 404 for an unknown client, endpoint or delivery; a conflict when the
    /// endpoint is disabled (nothing would be sent: enable it first).
    public static func resend(
        eventId: UUID, endpointId: UUID, clientId: String, by audit: AuditContext, on connection: PostgresConnection
    ) throws {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            let endpoint = try WebhookEndpointStore.require(endpointId, clientId: clientId, on: connection)
            try requireEnabled(endpoint, to: "resend")
            guard let row = try connection.query("""
                WITH before AS (
                    SELECT id, status FROM webhook_deliveries
                    WHERE client_id = \(clientId) AND endpoint_id = \(endpointId) AND event_id = \(eventId)
                    FOR UPDATE
                )
                UPDATE webhook_deliveries d
                SET status = 'pending', schedule_step = 0, next_attempt_at = now(), finished_at = NULL
                FROM before
                WHERE d.endpoint_id = \(endpointId) AND d.id = before.id
                RETURNING before.status AS previous_status
                """).first else {
                throw ReceiverError.notFound(
                    "No delivery of event \(eventIdText(eventId)) to webhook endpoint \(endpointId.lowercasedString) at client \(clientId).")
            }
            try AuditLog.record("webhook.resend", clientId: clientId, changes: [
                "id": .string(endpointId.lowercasedString), "eventId": .string(eventIdText(eventId)),
                "status": AuditLog.change(.string(try row.decode("previous_status")), .string(Status.pending.rawValue)),
            ], by: audit, on: connection)
        }
    }

    /// Sends again now every delivery of the endpoint that is not delivered and has an
    /// attempt that failed at or after `since`: those the retry schedule gave up on
    /// (`failed`) and those waiting for their next retry. Each gets the retry schedule from
    /// the start. Returns how many. Audited as `webhook.recover` (with the count).
    /// 404 for an unknown client or endpoint; a conflict when the endpoint is disabled.
    @discardableResult
    public static func recover(
        since: Date, endpointId: UUID, clientId: String, by audit: AuditContext, on connection: PostgresConnection
    ) throws -> Int {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            let endpoint = try WebhookEndpointStore.require(endpointId, clientId: clientId, on: connection)
            try requireEnabled(endpoint, to: "recover")
            let rows = try connection.query("""
                WITH recovered AS (
                    UPDATE webhook_deliveries d
                    SET status = 'pending', schedule_step = 0, next_attempt_at = least(d.next_attempt_at, now()), finished_at = NULL
                    WHERE d.client_id = \(clientId) AND d.endpoint_id = \(endpointId) AND d.status IN ('pending', 'failed')
                      AND EXISTS (
                          SELECT FROM webhook_attempts a
                          WHERE a.endpoint_id = d.endpoint_id AND a.delivery_id = d.id AND a.at >= \(since)
                            AND (a.status IS NULL OR a.status NOT BETWEEN 200 AND 299))
                    RETURNING 1
                )
                SELECT count(*) AS recovered FROM recovered
                """)
            let count = Int(try rows[0].decode("recovered", as: Int64.self))
            try AuditLog.record("webhook.recover", clientId: clientId, changes: [
                "id": .string(endpointId.lowercasedString), "since": .string(Timestamp.format(since)),
                "deliveries": .number(Double(count)),
            ], by: audit, on: connection)
            return count
        }
    }

    /// The `since` of a recover body: an RFC 3339 timestamp, required.
    public static func parseSince(_ body: JSONObject) -> Result<Date, ValidationFailure> {
        var reader = FieldReader(body)
        let text = reader.string("since", required: true, maxLength: 64)
        if let text {
            guard let since = Timestamp.parse(text) else {
                reader.fail("since", "must be an RFC 3339 timestamp such as 2026-12-06T10:00:00Z")
                return .failure(ValidationFailure(errors: reader.errors))
            }
            return .success(since)
        }
        return .failure(ValidationFailure(errors: reader.errors))
    }

    /// 404 unless the client has the endpoint (the unknown client's 404 when it is the client).
    private static func requireEndpoint(_ id: UUID, clientId: String, on connection: PostgresConnection) throws {
        try ClientStore.requireExists(clientId, on: connection)
        guard try !connection.query("""
            SELECT 1 FROM webhook_endpoints WHERE client_id = \(clientId) AND id = \(id)
            """).isEmpty else { throw WebhookEndpointStore.unknownEndpoint(id.lowercasedString, clientId: clientId) }
    }

    /// A disabled endpoint is sent nothing, so a resend or recover would only look as if it
    /// worked: refused, saying how to go on.
    private static func requireEnabled(_ endpoint: WebhookEndpoint, to operation: String) throws {
        guard !endpoint.enabled else { return }
        let reason = endpoint.disabledReason.map { " (\(Self.wording($0)))" } ?? ""
        throw ReceiverError.conflict(
            "The webhook endpoint \(endpoint.id.lowercasedString) is disabled\(reason), so nothing is sent to it and "
            + "there is nothing to \(operation) now. Enable it first (PATCH it with {\"enabled\": true}): that resumes "
            + "its undelivered deliveries from the first one; then \(operation) what it still needs.")
    }

    private static func wording(_ reason: WebhookEndpoint.DisabledReason) -> String {
        switch reason {
        case .admin: return "by an admin"
        case .gone: return "it answered 410 Gone"
        case .failing: return "every attempt failed for the auto-disable period"
        }
    }
}
