/// A new endpoint and its secret: the only time the secret is shown (with a rotation's).
public struct CreatedWebhookEndpoint: Sendable {
    public var endpoint: WebhookEndpoint
    public var secret: WebhookSecret

    /// The endpoint's admin form with `secret` added.
    public var json: JSONObject {
        var object = endpoint.json
        object["secret"] = .string(secret.encoded)
        return object
    }
}
