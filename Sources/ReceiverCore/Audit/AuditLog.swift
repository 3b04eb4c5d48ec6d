import Postgres

/// Who is making an admin change, for the audit trail.
public struct AuditContext: Sendable, Equatable {
    /// `admin-token` for the admin API, `cli:<unix user>` for the command line.
    public var actor: String
    /// The admin API request's `X-Request-Id`; nil from the command line.
    public var requestId: String?

    public init(actor: String, requestId: String? = nil) {
        self.actor = actor
        self.requestId = requestId
    }

    /// Every change made through the admin API, authenticated by the admin token.
    public static func adminAPI(requestId: String) -> AuditContext {
        AuditContext(actor: "admin-token", requestId: requestId)
    }

    /// Set-up outside the admin API and the command line (tests, fixtures).
    public static let system = AuditContext(actor: "system")
}

/// The audit trail of admin changes (`audit_events`). Every store function that
/// changes a client records its event on the connection of its own transaction,
/// so the change and its record commit together or not at all.
public enum AuditLog {
    /// Records one change. `changes` names what changed; never pass a secret.
    package static func record(
        _ action: String, clientId: String, changes: JSONObject, by audit: AuditContext, on connection: PostgresConnection
    ) throws {
        let changesJSON = PostgresJSON(text: String(decoding: JSONWriter.serialize(.object(changes)), as: UTF8.self))
        try connection.execute("""
            INSERT INTO audit_events (client_id, actor, action, changes, request_id)
            VALUES (\(clientId), \(audit.actor), \(action), \(changesJSON), \(audit.requestId))
            """)
    }

    /// A client's events, oldest first. The cursor key is the event id.
    public static func list(clientId: String, after: Int?, limit: Int, on connection: PostgresConnection) throws -> [AuditEvent] {
        try connection.query("""
            SELECT \(unescaped: AuditEvent.columns) FROM audit_events
            WHERE client_id = \(clientId) AND (\(after)::bigint IS NULL OR id > \(after))
            ORDER BY id
            LIMIT \(limit)
            """).map(AuditEvent.init(row:))
    }

    /// `{"from": old, "to": new}`, the shape of one changed field.
    package static func change(_ from: JSONValue, _ to: JSONValue) -> JSONValue {
        .object(["from": from, "to": to])
    }
}
