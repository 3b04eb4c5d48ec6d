/// A reader credential as issued: the only time its password exists in clear.
public struct IssuedReaderCredential: Sendable {
    public let reader: ReaderCredential
    public let password: String

    /// The `IssuedReaderCredential` schema of openapi.yaml. Only for the issuing response.
    public var json: JSONObject {
        [
            "id": .string(reader.id.lowercasedString),
            "label": .string(reader.label),
            "username": .string(reader.username),
            "password": .string(password),
            "createdAt": .string(Timestamp.format(reader.createdAt)),
        ]
    }
}
