import Foundation
import Postgres

/// A prospect as stored, with `staffOwnerId` resolved from the staff list.
package struct Prospect: Sendable {
    package var id: UUID
    package var person: PersonFields
    package var leadSourceId: UUID?
    package var staffOwnerEmail: String?
    package var staffOwnerId: UUID?
    package var status: String
    package var memberId: UUID?
    package var createdAt: Date
    package var updatedAt: Date
    package var version: Int

    /// The select list (table alias `p`). The staff owner is looked up per row
    /// by `staff_id_by_email` (migration 0003), which goes through the unique
    /// (client, lower(email)) index: a join, or the same lookup inline, lets the
    /// planner scan the whole staff list.
    package static let selectList = "p.id, " + PersonFields.columnNames.map { "p.\($0)" }.joined(separator: ", ")
        + ", p.lead_source_id, p.staff_owner_email, "
        + "staff_id_by_email(p.client_id, p.staff_owner_email) AS staff_owner_id"
        + ", p.status, p.member_id, p.created_at, p.updated_at, p.version"
        + ", (extract(epoch FROM p.updated_at) * 1000000)::bigint AS updated_micros"

    package init(row: PostgresRow) throws {
        id = try row.decode("id")
        person = try PersonFields(row: row)
        leadSourceId = try row.decode("lead_source_id")
        staffOwnerEmail = try row.decode("staff_owner_email")
        staffOwnerId = try row.decode("staff_owner_id")
        status = try row.decode("status")
        memberId = try row.decode("member_id")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
        updatedMicros = try row.decode("updated_micros")
    }

    /// `updated_at` in microseconds since the epoch, exact, for list cursors.
    package var updatedMicros: Int

    package var input: ProspectInput {
        ProspectInput(person: person, leadSourceId: leadSourceId?.lowercasedString, staffOwnerEmail: staffOwnerEmail, status: status)
    }

    package var json: JSONObject {
        var members: [(name: String, value: JSONValue)] = [("id", .string(id.lowercasedString))]
        members += person.jsonMembers()
        members += [
            ("leadSourceId", .optional(leadSourceId?.lowercasedString)),
            ("staffOwnerEmail", .optional(staffOwnerEmail)),
            ("staffOwnerId", .optional(staffOwnerId?.lowercasedString)),
            ("status", .string(status)),
            ("memberId", .optional(memberId?.lowercasedString)),
            ("createdAt", .string(Timestamp.format(createdAt))),
            ("updatedAt", .string(Timestamp.format(updatedAt))),
            ("version", .number(Double(version))),
        ]
        return JSONObject(members)
    }
}

extension ProspectInput {
    /// The writable fields as JSON, the target a merge patch applies to.
    package var json: JSONObject {
        var members = person.jsonMembers()
        members += [
            ("leadSourceId", .optional(leadSourceId)),
            ("staffOwnerEmail", .optional(staffOwnerEmail)),
            ("status", .string(status)),
        ]
        return JSONObject(members)
    }
}
