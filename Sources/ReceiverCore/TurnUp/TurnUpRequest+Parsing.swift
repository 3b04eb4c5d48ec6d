/// Parsing of the admin API's turn-up body. The command line builds the same
/// JSON and goes through the same parser, so both report the same fields with
/// the same messages.
extension TurnUpRequest {
    /// The most clubs one turn-up may carry; more are added with the club upsert.
    package static let maximumClubs = 1000

    /// Validates a turn-up body (`ClientCreate`). A missing or `null`
    /// `connection` is `defaultConnection` (the server's public URL).
    public static func parse(_ object: JSONObject, defaultConnection: ClientConnection) -> Result<TurnUpRequest, ValidationFailure> {
        var reader = FieldReader(object)
        // Taken exactly as sent (the `ClientId` pattern allows no white space):
        // it becomes the usernames and every URL of the client.
        var clientId: String?
        switch object["clientId"] {
        case nil, .null?: reader.fail("clientId", "is required")
        case .string(let raw)? where Identifier.isValid(raw): clientId = raw
        case .string?: reader.fail("clientId", Identifier.rule)
        case let other?: reader.fail("clientId", "must be a string, not \(other.typeName)")
        }
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
