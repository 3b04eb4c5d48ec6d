import Foundation
import OutboundHTTP

/// What an endpoint is made of, as an admin gives it: the body of
/// `POST …/webhook-endpoints`, or a `PATCH` merge patch applied to the stored endpoint.
public struct WebhookEndpointInput: Sendable {
    /// The longest URL, in bytes (the column's check agrees).
    public static let maximumURLLength = 2000
    public static let maximumDescriptionLength = 500

    public var url: String
    public var description: String?
    /// Empty: every type.
    public var eventTypes: [String]
    /// Empty: every club. Checked against the client's clubs when stored.
    public var clubIds: [String]
    public var enabled: Bool
    /// nil: no limit.
    public var rateLimit: Int?
    /// A secret the admin brings (moving from another provider); nil: the receiver makes one.
    /// Only at creation; a rotation makes a new one.
    public var secret: WebhookSecret?

    public init(url: String, description: String? = nil, eventTypes: [String] = [], clubIds: [String] = [],
                enabled: Bool = true, rateLimit: Int? = nil, secret: WebhookSecret? = nil) {
        (self.url, self.description, self.eventTypes, self.clubIds) = (url, description, eventTypes, clubIds)
        (self.enabled, self.rateLimit, self.secret) = (enabled, rateLimit, secret)
    }

    /// The body of a create: `url` required; `eventTypes`/`clubIds` absent, null or empty
    /// for all; `enabled` default true; `rateLimit` ≥ 1 or null; `secret` optional.
    public static func parse(_ body: JSONObject) -> Result<WebhookEndpointInput, ValidationFailure> {
        var reader = FieldReader(body)
        let url = reader.webhookURL("url", required: true)
        var input = WebhookEndpointInput(url: url ?? "")
        input.description = reader.string("description", maxLength: maximumDescriptionLength)
        input.eventTypes = reader.eventTypes("eventTypes") ?? []
        input.clubIds = reader.clubIds("clubIds") ?? []
        input.enabled = reader.bool("enabled") ?? true
        input.rateLimit = reader.integer("rateLimit", in: 1...1_000_000)
        if let text = reader.string("secret", maxLength: 200) {
            do { input.secret = try WebhookSecret(parsing: text) } catch { reader.absorbFields(of: error) }
        }
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(input)
    }

    /// A merge patch (RFC 7396) over `current`: `url` and `enabled` may not be null;
    /// `description`, `rateLimit` null clear them; `eventTypes`, `clubIds` null or empty
    /// mean all. The secret is not changed here (rotation is its own operation).
    public static func parse(patch: JSONObject, over current: WebhookEndpoint) -> Result<WebhookEndpointInput, ValidationFailure> {
        var reader = FieldReader(patch)
        var input = WebhookEndpointInput(
            url: current.url, description: current.description, eventTypes: current.eventTypes,
            clubIds: current.clubIds, enabled: current.enabled, rateLimit: current.rateLimit)
        for name in ["url", "enabled"] where patch[name]?.isNull == true {
            reader.fail(name, "must not be null")
        }
        if patch["secret"] != nil {
            reader.fail("secret", "cannot be changed here; rotate the secret instead (POST …/secret)")
        }
        if patch["url"]?.isNull == false, let url = reader.webhookURL("url", required: true) { input.url = url }
        if patch["description"] != nil { input.description = reader.string("description", maxLength: maximumDescriptionLength) }
        if patch["eventTypes"] != nil { input.eventTypes = reader.eventTypes("eventTypes") ?? [] }
        if patch["clubIds"] != nil { input.clubIds = reader.clubIds("clubIds") ?? [] }
        if patch["enabled"]?.isNull == false, let enabled = reader.bool("enabled") { input.enabled = enabled }
        if patch["rateLimit"] != nil { input.rateLimit = reader.integer("rateLimit", in: 1...1_000_000) }
        guard reader.errors.isEmpty else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(input)
    }

    /// Refuses a URL whose host resolves to a loopback, private, link-local (or otherwise
    /// non-public) address, unless `allowPrivateAddresses`: an `invalid` error on `url`.
    /// Resolves the name (blocks for DNS). The same rule is applied again at every connect.
    public static func checkAddress(of url: String, allowPrivateAddresses: Bool) throws(ReceiverError) {
        guard !allowPrivateAddresses else { return }
        let host: String
        do { host = try AddressPolicy.schemeAndHost(of: url).host } catch {
            throw .invalidField("url", error.message)
        }
        if let refusal = AddressPolicy.resolveRefusal(host: host) {
            throw .invalidField("url", "\(refusal); webhook endpoints must be reachable at a public address "
                + "(the server's --webhook-allow-private-addresses setting allows others)")
        }
    }
}

extension FieldReader {
    /// An absolute `http` or `https` URL with a host, as libcurl reads it.
    mutating func webhookURL(_ name: String, required: Bool) -> String? {
        guard let url = string(name, required: required, maxLength: WebhookEndpointInput.maximumURLLength) else { return nil }
        let parts: (scheme: String, host: String)
        do { parts = try AddressPolicy.schemeAndHost(of: url) } catch {
            fail(name, "must be an absolute http:// or https:// URL without user:password@ (\(error.message))")
            return nil
        }
        guard parts.scheme == "http" || parts.scheme == "https" else {
            fail(name, "must be an http:// or https:// URL, not \(parts.scheme)://")
            return nil
        }
        guard !parts.host.isEmpty else {
            fail(name, "must name a host")
            return nil
        }
        return url
    }

    /// Event types among ``ChangeFeed/types``; nil for absent or null.
    mutating func eventTypes(_ name: String) -> [String]? {
        guard let types = stringArray(name, maxCount: ChangeFeed.types.count, maxLength: 64) else { return nil }
        let unknown = types.filter { !ChangeFeed.types.contains($0) }
        guard unknown.isEmpty else {
            fail(name, "has unknown event types \(unknown.joined(separator: ", ")); known: \(ChangeFeed.types.joined(separator: ", "))")
            return nil
        }
        return types
    }

    /// Club ids of the identifier form (whether the client has them is checked when stored).
    mutating func clubIds(_ name: String) -> [String]? {
        guard let ids = stringArray(name, maxCount: 1000, maxLength: 64) else { return nil }
        guard ids.allSatisfy(Identifier.isValid) else {
            fail(name, "entries " + Identifier.rule)
            return nil
        }
        return ids
    }

    /// The field errors of a `ReceiverError.invalid`, taken over as they are.
    mutating func absorbFields(of error: ReceiverError) {
        if case .invalid(let errors) = error { absorb(errors) }
    }
}
