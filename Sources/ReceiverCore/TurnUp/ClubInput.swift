/// A club as an admin writes it (`ClubWrite`, full representation) with the
/// `clubId` of the path.
public struct ClubInput: Sendable, Equatable {
    public var clubId: String
    public var name: String
    /// The on/off toggle; default `true`.
    public var enabled: Bool

    public init(clubId: String, name: String, enabled: Bool = true) {
        self.clubId = clubId
        self.name = name
        self.enabled = enabled
    }

    /// Validates the body and the path's `clubId` together, so one 422 names every bad field.
    public static func parse(_ object: JSONObject, clubId: String) -> Result<ClubInput, ValidationFailure> {
        var reader = FieldReader(object)
        if !Identifier.isValid(clubId) { reader.fail("clubId", Identifier.rule) }
        let name = reader.string("name", required: true, maxLength: 200)
        let enabled = reader.bool("enabled") ?? true
        guard reader.errors.isEmpty, let name else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(ClubInput(clubId: clubId, name: name, enabled: enabled))
    }
}
