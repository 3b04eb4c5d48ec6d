import Foundation
import Postgres

/// A club system's reader credential as stored, without its secret: what the
/// admins see when they list a client's readers.
public struct ReaderCredential: Sendable, Equatable {
    public var id: UUID
    /// Who holds it, in the admins' words ("Club CRM").
    public var label: String
    public var username: String
    public var createdAt: Date
    /// When it last authenticated a `/v1` call, to within a minute
    /// (``ReaderUseRecorder``); nil if never.
    public var lastUsedAt: Date?

    package static let columns = "id, label, username, created_at, last_used_at"

    package init(row: PostgresRow) throws {
        id = try row.decode("id")
        label = try row.decode("label")
        username = try row.decode("username")
        createdAt = try row.decode("created_at")
        lastUsedAt = try row.decode("last_used_at")
    }

    /// The `ReaderCredential` schema of openapi.yaml: never a password or hash.
    public var json: JSONObject {
        [
            "id": .string(id.lowercasedString),
            "label": .string(label),
            "username": .string(username),
            "createdAt": .string(Timestamp.format(createdAt)),
            "lastUsedAt": .optional(lastUsedAt.map(Timestamp.format)),
        ]
    }
}
