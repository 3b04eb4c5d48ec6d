import Postgres

/// A member as the Connector writes it (see `ProspectInput`).
public struct MemberInput: Sendable, Equatable {
    public var person: PersonFields
    public var memberNumber: String?
    public var membershipType: String?
    public var membershipStatus: String?
    public var joinDate: PostgresDate?
    public var expiryDate: PostgresDate?

    package static let membershipStatuses = ["active", "frozen", "cancelled", "expired"]

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
