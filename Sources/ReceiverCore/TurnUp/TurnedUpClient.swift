/// The outcome of a turn-up: the client, its first credential, and its sheet.
public struct TurnedUpClient: Sendable {
    public let client: ClientRecord
    public let credential: IssuedCredential

    public var turnUpSheet: TurnUpSheet { client.turnUpSheet }

    /// The `ClientTurnUp` schema of openapi.yaml: the only response with the password.
    public var json: JSONObject {
        ["client": .object(client.json), "credentials": .object(credential.json), "turnUpSheet": .object(turnUpSheet.json)]
    }
}
