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

    package static let statuses = ["open", "converted", "lost"]

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
