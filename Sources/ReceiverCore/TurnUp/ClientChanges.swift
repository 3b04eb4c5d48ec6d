/// The changes of a client merge patch (`ClientPatch`), applied to the current
/// client: what it becomes.
public struct ClientChanges: Sendable {
    public var name: String
    public var connection: ClientConnection
    public var options: ClientOptions
    public var status: String

    /// No change: the client as it is.
    public init(_ client: ClientRecord) {
        name = client.name
        connection = client.connection
        options = client.options
        status = client.status
    }

    /// Applies a merge patch (RFC 7396) to `current`: `connection` and `options`
    /// merge member by member; `name`, `connection`, `options` and `status` may
    /// not be `null`.
    public static func parse(_ patch: JSONObject, over current: ClientRecord) -> Result<ClientChanges, ValidationFailure> {
        var reader = FieldReader(patch)
        var changes = ClientChanges(current)
        for name in ["name", "connection", "options", "status"] where patch[name]?.isNull == true {
            reader.fail(name, "must not be null")
        }
        if patch["name"]?.isNull == false, let name = reader.string("name", required: true, maxLength: 200) {
            changes.name = name
        }
        switch patch["connection"] {
        case nil, .null?:
            break
        case .object(let connectionObject)?:
            var connectionReader = FieldReader(connectionObject, prefix: "connection")
            if let connection = ClientConnection.read(&connectionReader, object: connectionObject, base: current.connection) {
                changes.connection = connection
            }
            reader.absorb(connectionReader.errors)
        case let other?:
            reader.fail("connection", "must be an object, not \(other.typeName)")
        }
        if let options = patch["options"], !options.isNull {
            switch ClientOptions.parse(options, over: current.options) {
            case .success(let parsed): changes.options = parsed
            case .failure(let failure): reader.absorb(failure.errors)
            }
        }
        if patch["status"]?.isNull == false, let status = reader.choice("status", of: ClientRecord.statuses) {
            changes.status = status
        }
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(changes)
    }
}
