/// Parsing of the admin API's request bodies: turn-up, client merge patch,
/// club upsert. The command line builds the same JSON and goes through the same
/// parsers, so both report the same fields with the same messages.
enum Identifier {
    /// `clientId` and `clubId`: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static let rule = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension FieldReader {
    /// Takes over the errors of a nested reader or parser, whose fields are
    /// already full paths; only for a reader of the whole body (no prefix).
    mutating func absorb(_ nested: [FieldError]) {
        for error in nested { fail(error.field, error.message) }
    }

    /// A required identifier (`clientId`, `clubId`).
    mutating func identifier(_ name: String) -> String? {
        guard let value = string(name, required: true, maxLength: 64) else { return nil }
        guard Identifier.isValid(value) else {
            fail(name, Identifier.rule)
            return nil
        }
        return value
    }
}

extension TurnUpRequest {
    /// The most clubs one turn-up may carry; more are added with the club upsert.
    static let maximumClubs = 1000

    /// Validates a turn-up body (`ClientCreate`). A missing or `null`
    /// `connection` is `defaultConnection` (the server's public URL).
    public static func parse(_ object: JSONObject, defaultConnection: ClientConnection) -> Result<TurnUpRequest, ValidationFailure> {
        var reader = FieldReader(object)
        let clientId = reader.identifier("clientId")
        let name = reader.string("name", required: true, maxLength: 200)
        var clubs: [(clubId: String, name: String, enabled: Bool)] = []
        switch object["clubs"] {
        case nil, .null?:
            reader.fail("clubs", "is required: at least one club, e.g. [{\"clubId\": \"club-001\", \"name\": \"Downtown\"}]")
        case .array(let elements)?:
            if elements.isEmpty { reader.fail("clubs", "must list at least one club") }
            if elements.count > maximumClubs { reader.fail("clubs", "must list at most \(maximumClubs) clubs; add more with PUT …/clubs/{clubId}") }
            for (index, element) in elements.prefix(maximumClubs).enumerated() {
                guard case .object(let clubObject) = element else {
                    reader.fail("clubs[\(index)]", "must be an object, not \(element.typeName)")
                    continue
                }
                var clubReader = FieldReader(clubObject, prefix: reader.path("clubs[\(index)]"))
                let clubId = clubReader.identifier("clubId")
                let clubName = clubReader.string("name", required: true, maxLength: 200)
                let enabled = clubReader.bool("enabled") ?? true
                if let clubId, clubs.contains(where: { $0.clubId == clubId }) {
                    clubReader.fail("clubId", "\(clubId) is listed twice; club IDs must be distinct")
                }
                reader.absorb(clubReader.errors)
                if clubReader.errors.isEmpty, let clubId, let clubName {
                    clubs.append((clubId, clubName, enabled))
                }
            }
        case let other?:
            reader.fail("clubs", "must be an array of clubs, not \(other.typeName)")
        }
        var connection: ClientConnection? = defaultConnection
        switch object["connection"] {
        case nil, .null?:
            break
        case .object(let connectionObject)?:
            var connectionReader = FieldReader(connectionObject, prefix: reader.path("connection"))
            connection = ClientConnection.read(&connectionReader, object: connectionObject, base: nil)
            reader.absorb(connectionReader.errors)
        case let other?:
            reader.fail("connection", "must be an object such as {\"scheme\": \"https\", \"host\": \"receiver.example.com\", \"port\": 443}, not \(other.typeName)")
        }
        var options = ClientOptions()
        switch ClientOptions.parse(object["options"]) {
        case .success(let parsed): options = parsed
        case .failure(let failure): reader.absorb(failure.errors)
        }
        guard reader.errors.isEmpty, let clientId, let name, let connection else {
            return .failure(ValidationFailure(errors: reader.errors))
        }
        return .success(TurnUpRequest(clientId: clientId, name: name, clubs: clubs, connection: connection.json, options: options))
    }
}

/// The changes of a client merge patch (`ClientPatch`), applied to the current
/// client: what it becomes.
public struct ClientChanges: Sendable {
    public var name: String
    public var connection: ClientConnection
    public var options: ClientOptions
    public var status: String

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
