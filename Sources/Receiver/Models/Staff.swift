import Foundation
import Postgres

/// A staff member as stored. Staff are managed through the admin API; the
/// Connector only reads them (to match a prospect's owner by email).
struct Staff: Sendable {
    var id: UUID
    var email: String
    var firstName: String?
    var lastName: String?
    var role: String?
    var active: Bool
    var clubIds: [String]
    var createdAt: Date
    var updatedAt: Date
    var version: Int

    static let columns = "id, email, first_name, last_name, role, active, club_ids, created_at, updated_at, version"

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        email = try row.decode("email")
        firstName = try row.decode("first_name")
        lastName = try row.decode("last_name")
        role = try row.decode("role")
        active = try row.decode("active")
        clubIds = try row.decode("club_ids")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
    }

    var json: JSONObject {
        [
            "id": .string(id.lowercasedString),
            "email": .string(email),
            "firstName": .optional(firstName),
            "lastName": .optional(lastName),
            "role": .optional(role),
            "active": .bool(active),
            "clubIds": .array(clubIds.map(JSONValue.string)),
            "createdAt": .string(Timestamp.format(createdAt)),
            "updatedAt": .string(Timestamp.format(updatedAt)),
            "version": .number(Double(version)),
        ]
    }
}

/// SQL for reading staff.
enum StaffStore {
    /// Staff ordered by email (case-insensitively), then id.
    static func list(clientId: String, clubId: String?, email: String?, page: Page, on connection: PostgresConnection) throws -> [Staff] {
        let afterEmail = page.after?[0]
        let afterId = page.after.flatMap { UUID(uuidString: $0[1]) }
        return try connection.query("""
            SELECT \(unescaped: Staff.columns) FROM staff
            WHERE client_id = \(clientId)
              AND (\(clubId)::text IS NULL OR \(clubId) = ANY (club_ids))
              AND (\(email)::text IS NULL OR lower(email) = lower(\(email)))
              AND (\(afterEmail)::text IS NULL OR (lower(email), id) > (\(afterEmail), \(afterId)))
            ORDER BY lower(email), id
            LIMIT \(page.limit + 1)
            """).map(Staff.init(row:))
    }

    static func sortKey(_ staff: Staff) -> [String] {
        [staff.email.lowercased(), staff.id.lowercasedString]
    }
}
