import CSodium
import HTTPServer
import HTTPTypes

/// The admin token that turns `/admin/v1` on, checked as
/// `Authorization: Bearer <token>` (RFC 6750 §2.1).
///
/// The comparison must not leak, through its timing, how much of a guess was
/// right. Both sides are first reduced to BLAKE2b-256 digests, then compared
/// with `sodium_memcmp` (constant time): the work does not depend on where the
/// first difference is, nor on the token's length.
public struct AdminAuthenticator: Sendable {
    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3).
    public static let realm = #"Bearer realm="connector-receiver-admin""#
    /// Shorter tokens are refused at start-up: a guessable token is no protection.
    public static let minimumTokenLength = 16

    private let tokenDigest: [UInt8]

    /// - Throws: `AdminTokenError` when the token is too short or has characters
    ///   a bearer token cannot carry (anything but visible ASCII).
    public init(token: String) throws(AdminTokenError) {
        try Self.validate(token)
        tokenDigest = Self.digest(token)
    }

    /// Throws, for the operator, why a configured token is refused.
    public static func validate(_ token: String) throws(AdminTokenError) {
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw AdminTokenError("the admin token may contain only visible ASCII characters (no spaces or line breaks inside it)")
        }
        guard token.utf8.count >= minimumTokenLength else {
            throw AdminTokenError(
                "the admin token is \(token.utf8.count) characters; use at least \(minimumTokenLength), e.g. from `openssl rand -base64 32`")
        }
    }

    /// Whether the request carries the token; answers 401 with the bearer
    /// challenge otherwise.
    public func authenticate(_ request: Request) throws(Problem) {
        guard let header = request.headerFields.value(of: .authorization) else {
            throw Self.unauthorized("Send the admin token as Authorization: Bearer <token>.")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("Send the admin token as Authorization: Bearer <token>.")
        }
        guard accepts(String(parts[1]).trimmingWhitespace()) else {
            throw Self.unauthorized("Missing or wrong admin token.")
        }
    }

    /// Whether `token` is the admin token (the console's sign-in sends it in a body).
    public func accepts(_ token: String) -> Bool {
        let presented = Self.digest(token)
        return sodium_memcmp(presented, tokenDigest, presented.count) == 0
    }

    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = realm
        return Problem(.unauthorized, type: "unauthorized", title: "Unauthorized", detail: detail, headerFields: headers)
    }

    /// 404 for every `/admin/v1` request while no admin token is configured.
    static func adminAPIOff() -> Problem {
        Problem(.notFound, type: "admin-api-off", title: "Admin API is off",
                detail: "The admin API is off; set RECEIVER_ADMIN_TOKEN (or RECEIVER_ADMIN_TOKEN_FILE) on the server to turn it on.")
    }

    /// sodium_init is idempotent and thread-safe; a Swift global runs it once.
    private static let sodiumInitialized: Bool = sodium_init() >= 0

    private static func digest(_ text: String) -> [UInt8] {
        precondition(sodiumInitialized, "libsodium could not be initialized")
        var output = [UInt8](repeating: 0, count: 32)
        let message = Array(text.utf8)
        _ = crypto_generichash(&output, output.count, message, UInt64(message.count), nil, 0)
        return output
    }
}

/// An admin token the server refuses to start with.
public struct AdminTokenError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
