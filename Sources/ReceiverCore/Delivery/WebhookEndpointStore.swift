import Foundation
import Postgres

/// A client's webhook endpoints: the one implementation behind `/admin/v1/…/webhook-endpoints`
/// and `connector-receiver turnup webhook`.
///
/// Every change locks the client's row first (``ClientStore``), like every admin change, and
/// records its audit event in the same transaction; the secret never goes into the audit trail
/// or a log line. An endpoint's deliveries are the engine's (``WebhookDeliveryEngine``); what
/// this store does to them is said where it does it: re-enabling makes the undelivered ones due.
public enum WebhookEndpointStore {
    /// How long the secret before a rotation keeps signing beside the new one.
    public static let rotationOverlap: Duration = .seconds(24 * 3600)

    /// Creates the endpoint, with a new secret unless `input` brings one. Its position starts
    /// below the current horizon of the change feed: it gets every event of every transaction
    /// still running and of all later ones. Audited as `webhook.create`. 404 for an unknown
    /// client; `invalid` for a club the client does not have, and for a URL at a non-public
    /// address unless `allowPrivateAddresses`.
    public static func create(
        clientId: String, _ input: WebhookEndpointInput, allowPrivateAddresses: Bool,
        by audit: AuditContext, on connection: PostgresConnection
    ) throws -> CreatedWebhookEndpoint {
        try WebhookEndpointInput.checkAddress(of: input.url, allowPrivateAddresses: allowPrivateAddresses)
        let secret = input.secret ?? WebhookSecret.generate()
        let endpoint = try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            try requireClubs(input.clubIds, of: clientId, on: connection)
            let id = RecordID.make()
            let rows = try connection.query("""
                WITH endpoint AS (
                    INSERT INTO webhook_endpoints (client_id, id, url, description, event_types, club_ids, enabled,
                                                   disabled_reason, disabled_at, rate_limit, secret)
                    VALUES (\(clientId), \(id), \(input.url), \(input.description), \(input.eventTypes), \(input.clubIds),
                            \(input.enabled), \(input.enabled ? nil : WebhookEndpoint.DisabledReason.admin.rawValue),
                            CASE WHEN \(input.enabled) THEN NULL ELSE now() END, \(input.rateLimit), \(secret.encoded))
                    RETURNING \(unescaped: WebhookEndpoint.columns)
                ), position AS (
                    INSERT INTO webhook_positions (client_id, endpoint_id, pos_xid, seq, micros)
                    SELECT client_id, id, \(unescaped: startXid), \(Int64.max), (extract(epoch FROM now()) * 1000000)::bigint
                    FROM endpoint
                )
                SELECT * FROM endpoint
                """)
            let endpoint = try WebhookEndpoint(row: rows[0])
            try AuditLog.record("webhook.create", clientId: clientId, changes: endpoint.auditJSON, by: audit, on: connection)
            return endpoint
        }
        return CreatedWebhookEndpoint(endpoint: endpoint, secret: secret)
    }

    /// Just below the change feed's horizon (``FeedCursor/init(below:at:)``), as SQL.
    private static let startXid = "(pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8"

    /// Where a page of the list starts: after the id of its cursor.
    package static func after(_ page: Page) throws(ReceiverError) -> UUID? {
        try page.afterID()
    }

    /// The cursor key of an endpoint in `list`'s order.
    public static func sortKey(_ endpoint: WebhookEndpoint) -> [String] {
        [endpoint.id.lowercasedString]
    }

    /// The client's endpoints, oldest first (ids are time-ordered), those after `after`, at
    /// most `limit`. The caller checks that the client exists.
    public static func list(clientId: String, after: UUID?, limit: Int, on connection: PostgresConnection) throws -> [WebhookEndpoint] {
        try connection.query("""
            SELECT \(unescaped: WebhookEndpoint.columns) FROM webhook_endpoints
            WHERE client_id = \(clientId) AND (\(after)::uuid IS NULL OR id > \(after))
            ORDER BY id
            LIMIT \(limit)
            """).map(WebhookEndpoint.init(row:))
    }

    /// The id of an endpoint as a path or the command line gives it. Text that is not a UUID
    /// names no endpoint: a 404, the unknown client's if the client is unknown too.
    public static func parseId(_ text: String, clientId: String, on connection: PostgresConnection) throws -> UUID {
        if let id = RecordID.parse(text) { return id }
        try ClientStore.requireExists(clientId, on: connection)
        throw unknownEndpoint(text, clientId: clientId)
    }

    /// The endpoint, or a 404.
    public static func require(_ id: UUID, clientId: String, on connection: PostgresConnection) throws -> WebhookEndpoint {
        guard let row = try connection.query("""
            SELECT \(unescaped: WebhookEndpoint.columns) FROM webhook_endpoints WHERE client_id = \(clientId) AND id = \(id)
            """).first else { throw unknownEndpoint(id.lowercasedString, clientId: clientId) }
        return try WebhookEndpoint(row: row)
    }

    /// Changes the endpoint to what `makeChanges` makes of the current one (a merge patch,
    /// ``WebhookEndpointInput/parse(patch:over:)``), audited as `webhook.update` with what
    /// changed. Disabling records the reason `admin`. Re-enabling clears the failing state and
    /// makes every undelivered delivery due now, with its retry schedule from the start:
    /// the pending ones, and those whose schedule ran out during the failing period that
    /// ended in the endpoint being disabled. Nothing changed: nothing written.
    ///
    /// A new URL's address is checked outside the transaction: resolving a name can take
    /// seconds, which the client's lock and the endpoint's row must not be held for. The
    /// transaction stops at a URL not checked yet, the URL is checked, and the transaction
    /// runs again (`makeChanges` is called once per run).
    public static func update(
        _ id: UUID, clientId: String, allowPrivateAddresses: Bool, by audit: AuditContext, on connection: PostgresConnection,
        _ makeChanges: (WebhookEndpoint) throws -> WebhookEndpointInput
    ) throws -> WebhookEndpoint {
        var addresses: NewAddresses = allowPrivateAddresses ? .any : .checked(nil)
        while true {
            do {
                return try update(id, clientId: clientId, addresses: addresses, by: audit, on: connection, makeChanges)
            } catch let unchecked as UncheckedURL {
                try WebhookEndpointInput.checkAddress(of: unchecked.url, allowPrivateAddresses: false)
                addresses = .checked(unchecked.url)
            }
        }
    }

    /// Which new URL a run of `update`'s transaction may store.
    private enum NewAddresses {
        /// Any: the server allows every address.
        case any
        /// Only this one, whose address was checked (none yet: nil).
        case checked(String?)
    }

    /// A new URL whose address must be checked before the update can go on.
    private struct UncheckedURL: Error {
        var url: String
    }

    /// One run of `update`'s transaction.
    private static func update(
        _ id: UUID, clientId: String, addresses: NewAddresses, by audit: AuditContext, on connection: PostgresConnection,
        _ makeChanges: (WebhookEndpoint) throws -> WebhookEndpointInput
    ) throws -> WebhookEndpoint {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            guard let row = try connection.query("""
                SELECT \(unescaped: WebhookEndpoint.columns) FROM webhook_endpoints
                WHERE client_id = \(clientId) AND id = \(id) FOR NO KEY UPDATE
                """).first else { throw unknownEndpoint(id.lowercasedString, clientId: clientId) }
            let current = try WebhookEndpoint(row: row)
            let wanted = try makeChanges(current)
            var changes = JSONObject()
            func note(_ name: String, _ from: JSONValue, _ to: JSONValue) {
                if from != to { changes[name] = AuditLog.change(from, to) }
            }
            note("url", .string(current.url), .string(wanted.url))
            note("description", .optional(current.description), .optional(wanted.description))
            note("eventTypes", .array(current.eventTypes.map(JSONValue.string)), .array(wanted.eventTypes.map(JSONValue.string)))
            note("clubIds", .array(current.clubIds.map(JSONValue.string)), .array(wanted.clubIds.map(JSONValue.string)))
            note("enabled", .bool(current.enabled), .bool(wanted.enabled))
            note("rateLimit", current.rateLimit.map { .number(Double($0)) } ?? .null, wanted.rateLimit.map { .number(Double($0)) } ?? .null)
            guard !changes.isEmpty else { return current }
            if wanted.url != current.url, case .checked(let checked) = addresses, checked != wanted.url {
                throw UncheckedURL(url: wanted.url)
            }
            if wanted.clubIds != current.clubIds { try requireClubs(wanted.clubIds, of: clientId, on: connection) }
            let reenabled = wanted.enabled && !current.enabled
            if reenabled {
                try connection.execute("""
                    UPDATE webhook_deliveries
                    SET status = 'pending', schedule_step = 0, next_attempt_at = now(), finished_at = NULL
                    WHERE endpoint_id = \(id)
                      AND (status = 'pending'
                           OR (status = 'failed' AND created_at >= coalesce(\(current.failingSince), \(current.disabledAt), now())))
                    """)
            }
            let rows = try connection.query("""
                UPDATE webhook_endpoints
                SET url = \(wanted.url), description = \(wanted.description), event_types = \(wanted.eventTypes),
                    club_ids = \(wanted.clubIds), rate_limit = \(wanted.rateLimit), enabled = \(wanted.enabled),
                    disabled_reason = CASE WHEN \(wanted.enabled) THEN NULL
                                           WHEN enabled THEN \(WebhookEndpoint.DisabledReason.admin.rawValue) ELSE disabled_reason END,
                    disabled_at = CASE WHEN \(wanted.enabled) THEN NULL WHEN enabled THEN now() ELSE disabled_at END,
                    failing_since = CASE WHEN \(reenabled) THEN NULL ELSE failing_since END,
                    warned_at = CASE WHEN \(reenabled) THEN NULL ELSE warned_at END,
                    updated_at = now(), version = version + 1
                WHERE client_id = \(clientId) AND id = \(id)
                RETURNING \(unescaped: WebhookEndpoint.columns)
                """)
            var audited = changes
            audited["id"] = .string(id.lowercasedString)
            try AuditLog.record("webhook.update", clientId: clientId, changes: audited, by: audit, on: connection)
            return try WebhookEndpoint(row: rows[0])
        }
    }

    /// Deletes the endpoint with its position, deliveries and attempts. Audited as
    /// `webhook.delete`. 404 for an unknown endpoint or client.
    public static func delete(_ id: UUID, clientId: String, by audit: AuditContext, on connection: PostgresConnection) throws {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            guard let row = try connection.query("""
                DELETE FROM webhook_endpoints WHERE client_id = \(clientId) AND id = \(id)
                RETURNING \(unescaped: WebhookEndpoint.columns)
                """).first else { throw unknownEndpoint(id.lowercasedString, clientId: clientId) }
            try AuditLog.record("webhook.delete", clientId: clientId, changes: try WebhookEndpoint(row: row).auditJSON,
                                by: audit, on: connection)
        }
    }

    /// Makes a new secret and returns it (shown once). The former one keeps signing beside it
    /// for ``rotationOverlap``; a secret from a rotation before that stops at once. Audited as
    /// `webhook.rotate_secret` (when, never the secret).
    public static func rotateSecret(_ id: UUID, clientId: String, by audit: AuditContext, on connection: PostgresConnection) throws -> WebhookSecret {
        let secret = WebhookSecret.generate()
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            guard let row = try connection.query("""
                UPDATE webhook_endpoints
                SET previous_secret = secret, secret = \(secret.encoded),
                    previous_secret_expires_at = now() + \(rotationOverlap.secondsText)::interval,
                    updated_at = now(), version = version + 1
                WHERE client_id = \(clientId) AND id = \(id)
                RETURNING previous_secret_expires_at
                """).first else { throw unknownEndpoint(id.lowercasedString, clientId: clientId) }
            let expires: Date = try row.decode("previous_secret_expires_at")
            try AuditLog.record("webhook.rotate_secret", clientId: clientId, changes: [
                "id": .string(id.lowercasedString), "previousSecretExpiresAt": .string(Timestamp.format(expires)),
            ], by: audit, on: connection)
        }
        return secret
    }

    /// The 404 for an id that names none of the client's endpoints.
    public static func unknownEndpoint(_ id: String, clientId: String) -> ReceiverError {
        .notFound("No webhook endpoint \(id) at client \(clientId).")
    }

    /// `invalid` on `clubIds` naming the ids the client does not have.
    private static func requireClubs(_ clubIds: [String], of clientId: String, on connection: PostgresConnection) throws {
        guard !clubIds.isEmpty else { return }
        let unknown = try connection.query("""
            SELECT c FROM unnest(\(clubIds)::text[]) AS c
            WHERE NOT EXISTS (SELECT FROM clubs WHERE client_id = \(clientId) AND club_id = c)
            """).map { try $0.decode("c", as: String.self) }
        guard unknown.isEmpty else {
            throw ReceiverError.invalidField("clubIds", "client \(clientId) has no club \(unknown.joined(separator: ", "))")
        }
    }
}
