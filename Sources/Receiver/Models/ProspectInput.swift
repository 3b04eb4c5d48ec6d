import Postgres
/// A prospect as the Connector writes it: the full representation of `POST`
/// and `PUT …/by-external-id/{externalId}`, and the result of applying a
/// merge patch to the stored prospect. Read-only fields (`id`, `version`,
/// `staffOwnerId`, `memberId`, timestamps) are ignored if sent.
public struct ProspectInput: Sendable, Equatable {
    public var person: PersonFields
    public var leadSourceId: String?
    public var staffOwnerEmail: String?
    public var status: String

    static let statuses = ["open", "converted", "lost"]

    /// Validates a request body; every bad field is reported.
    public static func parse(_ object: JSONObject) -> Result<ProspectInput, ValidationFailure> {
        var reader = FieldReader(object)
        let person = PersonFields.read(&reader)
        let leadSourceId = reader.string("leadSourceId", maxLength: 64)
        let staffOwnerEmail = reader.email("staffOwnerEmail")
        let status = reader.choice("status", of: statuses) ?? "open"
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(ProspectInput(person: person, leadSourceId: leadSourceId, staffOwnerEmail: staffOwnerEmail, status: status))
    }
}

/// A member as the Connector writes it (see `ProspectInput`).
public struct MemberInput: Sendable, Equatable {
    public var person: PersonFields
    public var memberNumber: String?
    public var membershipType: String?
    public var membershipStatus: String?
    public var joinDate: PostgresDate?
    public var expiryDate: PostgresDate?

    static let membershipStatuses = ["active", "frozen", "cancelled", "expired"]

    public static func parse(_ object: JSONObject) -> Result<MemberInput, ValidationFailure> {
        var reader = FieldReader(object)
        let person = PersonFields.read(&reader)
        let input = MemberInput(
            person: person,
            memberNumber: reader.string("memberNumber", maxLength: 64),
            membershipType: reader.string("membershipType", maxLength: 100),
            membershipStatus: reader.choice("membershipStatus", of: membershipStatuses),
            joinDate: reader.date("joinDate"),
            expiryDate: reader.date("expiryDate"))
        if let join = input.joinDate, let expiry = input.expiryDate, expiry < join {
            reader.fail("expiryDate", "must not be before joinDate")
        }
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(input)
    }
}

/// A request body that failed validation: every bad field, for the problem's `errors[]`.
public struct ValidationFailure: Error, Sendable, Equatable {
    public let errors: [FieldError]
}
