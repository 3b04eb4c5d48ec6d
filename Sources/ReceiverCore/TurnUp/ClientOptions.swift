import Postgres

/// A client's custom options: the documented set, with types and defaults.
/// Unknown options are rejected when written (422) so a typo never passes silently.
public struct ClientOptions: Sendable, Equatable {
    /// Match records without an external id on save (by name, email, mobile). Default on.
    public var smartMatch: Bool = true

    public static let documentation: [(name: String, type: String, defaultValue: String, meaning: String)] = [
        ("smartMatch", "boolean", "true", "On save, adopt one existing record without an externalId that matches by name + email + mobile, name + email, or name + mobile."),
    ]

    public init() {}

    /// Reads and validates options sent by an admin; every problem is reported
    /// under `options.<name>`. Members left out keep `base`'s value (a merge
    /// patch); a member set to `null` takes its default.
    public static func parse(_ value: JSONValue?, over base: ClientOptions = ClientOptions()) -> Result<ClientOptions, ValidationFailure> {
        var options = base
        guard let value, !value.isNull else { return .success(options) }
        guard case .object(let object) = value else {
            return .failure(ValidationFailure(errors: [FieldError(field: "options", message: "must be an object, not \(value.typeName)")]))
        }
        var errors: [FieldError] = []
        for (name, member) in object.members {
            switch name {
            case "smartMatch":
                if member.isNull {
                    options.smartMatch = ClientOptions().smartMatch
                    continue
                }
                guard case .bool(let flag) = member else {
                    errors.append(FieldError(field: "options.smartMatch", message: "must be a boolean"))
                    continue
                }
                options.smartMatch = flag
            default:
                let known = documentation.map(\.name).joined(separator: ", ")
                errors.append(FieldError(field: "options.\(name)", message: "is not a known option (known: \(known))"))
            }
        }
        return errors.isEmpty ? .success(options) : .failure(ValidationFailure(errors: errors))
    }

    /// Reads the stored JSON; stored options were validated when written.
    package init(stored: PostgresJSON) throws {
        let value = try JSONParser.parse(Array(stored.text.utf8))
        if case .object(let object) = value, case .bool(let flag)? = object["smartMatch"] {
            smartMatch = flag
        }
    }

    public var json: JSONValue {
        .object(["smartMatch": .bool(smartMatch)])
    }
}
