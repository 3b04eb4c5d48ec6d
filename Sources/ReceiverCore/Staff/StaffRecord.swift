import Foundation
import Postgres

/// A staff member as stored. Managed through the admin API (and `turnup staff`);
/// the Connector only reads staff.
public struct StaffRecord: Sendable, Equatable {
    public var id: UUID
    /// Unique per client, compared case-insensitively.
    public var email: String
    public var firstName: String?
    public var lastName: String?
    public var role: String?
    public var active: Bool
    /// Clubs of the client the staff member works at, in the order written.
    public var clubIds: [String]
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    package static let columns = "id, email, first_name, last_name, role, active, club_ids, created_at, updated_at, version"

    package init(row: PostgresRow) throws {
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

    /// The `Staff` schema of openapi.yaml.
    public var json: JSONObject {
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

    /// The writable fields, as the full representation a `PUT` would send.
    public var input: StaffInput {
        StaffInput(email: email, firstName: firstName, lastName: lastName, role: role, clubIds: clubIds, active: active)
    }
}

/// A staff member as an admin writes it (`StaffWrite`, full representation,
/// with the path's `email`): members left out become `null`, `[]` or `true`.
public struct StaffInput: Sendable, Equatable {
    /// The path's spelling; the key, compared case-insensitively.
    public var email: String
    public var firstName: String?
    public var lastName: String?
    public var role: String?
    public var clubIds: [String]
    public var active: Bool

    public init(email: String, firstName: String? = nil, lastName: String? = nil, role: String? = nil, clubIds: [String] = [], active: Bool = true) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.role = role
        self.clubIds = clubIds
        self.active = active
    }

    /// Validates the body's fields and the path's `email` together; whether each
    /// club is one of the client's is checked by the store, against the database.
    public static func parse(_ object: JSONObject, email rawEmail: String) -> Result<StaffInput, ValidationFailure> {
        var reader = FieldReader(object)
        // The path's email as sent: it is the key, and the address stored.
        let email = rawEmail
        if email.utf8.count > 254 || !EmailAddress.isValid(email) {
            reader.fail("email", "must be an email address such as name@example.com (at most 254 characters)")
        }
        let firstName = reader.string("firstName", maxLength: 100)
        let lastName = reader.string("lastName", maxLength: 100)
        let role = reader.string("role", maxLength: 100)
        let clubIds = reader.stringArray("clubIds", maxCount: 100, maxLength: 64) ?? []
        for clubId in clubIds where !Identifier.isValid(clubId) {
            reader.fail("clubIds", "\(clubId) is not a club ID: club IDs \(Identifier.rule)")
        }
        let active = reader.bool("active") ?? true
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(StaffInput(email: email, firstName: firstName, lastName: lastName, role: role, clubIds: clubIds, active: active))
    }

    /// The body a `PUT` sends for this input (the command line builds it so).
    public var json: JSONObject {
        [
            "firstName": .optional(firstName),
            "lastName": .optional(lastName),
            "role": .optional(role),
            "clubIds": .array(clubIds.map(JSONValue.string)),
            "active": .bool(active),
        ]
    }
}
