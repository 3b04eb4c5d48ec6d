import Foundation
import Postgres

/// A club as stored: one location of a client, with its on/off toggle.
public struct ClubRecord: Sendable, Equatable {
    public var clubId: String
    public var name: String
    /// The toggle: a disabled club accepts no `/v1` writes and lists skip its records.
    public var enabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    package static let columns = "club_id, name, enabled, created_at, updated_at"

    package init(row: PostgresRow) throws {
        clubId = try row.decode("club_id")
        name = try row.decode("name")
        enabled = try row.decode("enabled")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
    }

    /// The `Club` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "clubId": .string(clubId),
            "name": .string(name),
            "enabled": .bool(enabled),
            "createdAt": .string(Timestamp.format(createdAt)),
            "updatedAt": .string(Timestamp.format(updatedAt)),
        ]
    }
}
