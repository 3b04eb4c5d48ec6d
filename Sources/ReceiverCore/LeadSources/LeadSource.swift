import Foundation
import Postgres

/// A lead source as stored.
package struct LeadSource: Sendable {
    package var id: UUID
    package var name: String
    package var externalId: String?
    package var active: Bool
    package var createdAt: Date
    package var updatedAt: Date
    package var version: Int

    package static let columns = "id, name, external_id, active, created_at, updated_at, version"

    package init(row: PostgresRow) throws {
        id = try row.decode("id")
        name = try row.decode("name")
        externalId = try row.decode("external_id")
        active = try row.decode("active")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
    }

    package var json: JSONObject {
        [
            "id": .string(id.lowercasedString),
            "name": .string(name),
            "externalId": .optional(externalId),
            "active": .bool(active),
            "createdAt": .string(Timestamp.format(createdAt)),
            "updatedAt": .string(Timestamp.format(updatedAt)),
            "version": .number(Double(version)),
        ]
    }

    /// The writable fields, as a merge patch applies to them.
    package var inputJSON: JSONObject {
        ["name": .string(name), "externalId": .optional(externalId), "active": .bool(active)]
    }
}

/// A lead source as the Connector writes it.
package struct LeadSourceInput: Sendable, Equatable {
    package var name: String
    package var externalId: String?
    package var active: Bool

    package static func parse(_ object: JSONObject) -> Result<LeadSourceInput, ValidationFailure> {
        var reader = FieldReader(object)
        let name = reader.string("name", required: true, maxLength: 200)
        let externalId = reader.string("externalId", maxLength: 255)
        let active = reader.bool("active") ?? true
        guard reader.errors.isEmpty, let name else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(LeadSourceInput(name: name, externalId: externalId, active: active))
    }
}
