extension WebhookEndpointInput {
    /// The input with its URL's scheme in lower case: RFC 3986 §3.1 makes schemes
    /// case-insensitive with lower case canonical, libcurl reads `HTTPS://` as `https`, and
    /// `webhook_endpoints.url`'s check (`^https?://`) takes only the canonical spelling, so an
    /// admin's `HTTPS://…` is stored as `https://…` rather than refused by the database.
    /// The rest of the URL is kept byte for byte.
    public func withCanonicalScheme() -> WebhookEndpointInput {
        var input = self
        guard let colon = url.firstIndex(of: ":") else { return input }
        let scheme = url[..<colon]
        let lowered = scheme.lowercased()
        if scheme != lowered { input.url = lowered + url[colon...] }
        return input
    }
}
