/// A credential as issued: the only time the password exists in clear.
public struct IssuedCredential: Sendable {
    public let username: String
    public let password: String

    /// The `Credentials` schema of openapi.yaml. Only for the issuing response.
    public var json: JSONObject {
        ["username": .string(username), "password": .string(password)]
    }
}
