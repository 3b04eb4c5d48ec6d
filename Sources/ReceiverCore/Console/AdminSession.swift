import Foundation

/// A signed-in admin console: when it ends, and the token its writes must
/// carry in a header (see ``AdminSessions/csrfToken(forSessionToken:)``).
public struct AdminSession: Sendable, Equatable {
    public var expiresAt: Date
    public var csrfToken: String

    /// The `AdminSession` schema of openapi.yaml (never the session token itself,
    /// which travels only in the HttpOnly cookie).
    public var json: JSONObject {
        ["csrfToken": .string(csrfToken), "expiresAt": .string(Timestamp.format(expiresAt))]
    }
}
