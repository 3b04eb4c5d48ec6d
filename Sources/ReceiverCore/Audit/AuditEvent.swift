import Foundation
import Postgres

/// One admin change to a client, as `GET …/audit` shows it: who, when, what
/// changed (never a secret).
public struct AuditEvent: Sendable {
    public var id: Int
    public var occurredAt: Date
    /// `admin-token` for the admin API, `cli:<unix user>` for the command line.
    public var actor: String
    /// E.g. `client.create`, `club.update`, `credentials.rotate`.
    public var action: String
    public var changes: JSONObject
    /// The `X-Request-Id` of the admin API request; `null` from the command line.
    public var requestId: String?

    package static let columns = "id, occurred_at, actor, action, changes, request_id"

    package init(row: PostgresRow) throws {
        id = try row.decode("id")
        occurredAt = try row.decode("occurred_at")
        actor = try row.decode("actor")
        action = try row.decode("action")
        changes = try JSONParser.parse(Array(try row.decode("changes", as: PostgresJSON.self).text.utf8)).objectValue ?? [:]
        requestId = try row.decode("request_id")
    }

    /// The `AuditEvent` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "id": .string(String(id)),
            "occurredAt": .string(Timestamp.format(occurredAt)),
            "actor": .string(actor),
            "action": .string(action),
            "changes": .object(changes),
            "requestId": .optional(requestId),
        ]
    }
}
