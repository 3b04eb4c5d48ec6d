import Foundation
import HTTPServer
import HTTPTypes
import Postgres

/// The client a `/v1` request acts for, decided by its HTTP Basic credentials.
public struct AuthenticatedClient: Sendable {
    public let clientId: String
    public let options: ClientOptions
}

/// Checks HTTP Basic credentials against the active credential of the client
/// the username names (`<clientId>.<random>`): one primary-key lookup and one
/// keyed hash, on the connection the request uses anyway. No cache, so a
/// rotation or suspension takes effect on the very next request, on every
/// instance.
enum ClientAuthenticator {
    static let realm = #"Basic realm="connector-receiver""#

    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = realm
        return Problem(.unauthorized, type: "unauthorized", title: "Unauthorized", detail: detail, headerFields: headers)
    }

    /// The (username, password) of a `Basic` Authorization header, if well formed
    /// (RFC 7617: the scheme is case-insensitive; user-id and password split at the
    /// first colon). On every `/v1` request, so without Foundation's string bridging.
    static func basicCredentials(_ request: Request) -> (username: String, password: String)? {
        guard var header = request.headerFields.value(of: .authorization) else { return nil }
        return header.withUTF8 { bytes -> (String, String)? in
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var value = bytes[...]
            while let first = value.first, isBlank(first) { value.removeFirst() }
            while let last = value.last, isBlank(last) { value.removeLast() }
            let scheme = "basic".utf8
            guard value.count > scheme.count, value[value.startIndex + scheme.count] == UInt8(ascii: " "),
                  zip(value, scheme).allSatisfy({ $0 | 0x20 == $1 })
            else { return nil }
            var token = value.dropFirst(scheme.count + 1)
            while let first = token.first, isBlank(first) { token.removeFirst() }
            guard let decoded = Base64.decode(token), let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let username = String(validating: decoded[..<colon], as: UTF8.self),
                  let password = String(validating: decoded[(colon + 1)...], as: UTF8.self)
            else { return nil }
            return (username, password)
        }
    }

    static func clientId(fromUsername username: String) -> String? {
        guard let dot = username.lastIndex(of: "."), dot != username.startIndex else { return nil }
        return String(username[..<dot])
    }

    static func authenticate(_ request: Request, on connection: PostgresConnection) throws -> AuthenticatedClient {
        guard let (username, password) = basicCredentials(request) else {
            throw unauthorized("Send the client's credentials with HTTP Basic authentication.")
        }
        guard let clientId = clientId(fromUsername: username), username.utf8.count <= 200 else {
            throw unauthorized("Unknown username or wrong password.")
        }
        let rows = try connection.query("""
            SELECT c.password_hash, cl.status, cl.options
            FROM credentials c JOIN clients cl ON cl.client_id = c.client_id
            WHERE c.client_id = \(clientId) AND c.username = \(username) AND c.revoked_at IS NULL
            """)
        guard let row = rows.first,
              CredentialSecrets.verify(password: password, against: try row.decode("password_hash", as: String.self))
        else {
            throw unauthorized("Unknown username or wrong password.")
        }
        guard try row.decode("status", as: String.self) == "active" else {
            throw Problem(.forbidden, type: "client-suspended", title: "Forbidden",
                          detail: "The client \(clientId) is suspended; ask the receiver's administrators to reactivate it.")
        }
        let options = try ClientOptions(stored: try row.decode("options", as: PostgresJSON.self))
        return AuthenticatedClient(clientId: clientId, options: options)
    }
}
