import Foundation
import Postgres

/// Whose credential a `/v1` call carries: the Connector's, which reads and
/// writes, or a club system's reader credential, which only reads.
package enum CredentialRole: String, Sendable {
    case connector
    case reader
}

/// The client a `/v1` call acts for, decided by its credential.
package struct AuthenticatedClient: Sendable {
    package let clientId: String
    package let options: ClientOptions
    package let role: CredentialRole
    /// The reader credential's id (nil for the Connector's).
    package let readerId: UUID?

    package init(clientId: String, options: ClientOptions, role: CredentialRole = .connector, readerId: UUID? = nil) {
        (self.clientId, self.options, self.role, self.readerId) = (clientId, options, role, readerId)
    }
}

/// A client credential as presented: a username `<clientId>.<random>` and a
/// password, not yet checked.
public struct ClientCredential: Sendable {
    public let username: String
    public let password: String
    /// The client the username names.
    public let clientId: String

    /// The longest username looked up; longer ones cannot have been issued.
    package static let maximumUsernameLength = 200

    /// nil when the username cannot name a client (no `.`, too long, or with a NUL
    /// byte, which no issued username has and no statement can carry).
    public init?(username: String, password: String) {
        guard username.utf8.count <= Self.maximumUsernameLength, !username.utf8.contains(0),
              let clientId = Self.clientId(fromUsername: username)
        else { return nil }
        (self.username, self.password, self.clientId) = (username, password, clientId)
    }

    /// The client a username names: what comes before its last `.`.
    public static func clientId(fromUsername username: String) -> String? {
        guard let dot = username.lastIndex(of: "."), dot != username.startIndex else { return nil }
        return String(username[..<dot])
    }

    /// The error for a credential that does not authenticate.
    public static let rejected = ReceiverError.unauthenticated("Unknown username or wrong password.")
}

/// Checks a credential against the active credential of the client its username
/// names: one primary-key lookup and one keyed hash, on the connection the call
/// uses anyway. No cache, so a rotation or suspension takes effect on the very
/// next call, on every instance.
public enum ClientAuthenticator {
    package static func authenticate(_ credential: ClientCredential, on connection: PostgresConnection) throws -> AuthenticatedClient {
        let rows = try connection.query("""
            SELECT \(unescaped: storedCredentialColumns)
            FROM credentials c JOIN clients cl ON cl.client_id = c.client_id
            WHERE \(storedCredential(clientId: "\(credential.clientId)", username: "\(credential.username)"))
            """)
        return try client(credential, stored: rows.first)
    }

    /// Which row of `credentials c` a credential presented as `clientId` and
    /// `username` is (bound values, or columns of a batch's rows): its client's,
    /// under that username, not revoked. The one place that says so, for every
    /// statement that looks a credential up (alone, or beside the reads it allows).
    package static func storedCredential(clientId: PostgresQuery, username: PostgresQuery) -> PostgresQuery {
        "c.client_id = \(clientId) AND c.username = \(username) AND c.revoked_at IS NULL"
    }

    /// What `client(_:stored:)` reads of the stored credential (`credentials c`) and
    /// its client (`clients cl`), for statements that look a credential up along
    /// with other things (a batch of reads).
    package static let storedCredentialColumns =
        "c.password_hash, c.role AS credential_role, c.id AS credential_id, cl.status AS client_status, cl.options AS client_options"

    /// The client a credential authenticates, from the row of `storedCredentialColumns`
    /// (nil, or null columns: no such credential).
    package static func client(_ credential: ClientCredential, stored row: PostgresRow?) throws -> AuthenticatedClient {
        guard let row else { throw ClientCredential.rejected }
        let client = try decide(
            credential, passwordHash: try row.decode("password_hash"), status: try row.decode("client_status"),
            options: try row.decode("client_options"))
        guard let role = try row.decode("credential_role", as: String?.self).flatMap(CredentialRole.init(rawValue:)),
              role == .reader
        else { return client }
        return AuthenticatedClient(clientId: client.clientId, options: client.options, role: .reader, readerId: try row.decode("credential_id"))
    }

    /// The rule once the stored credential is read (here or in a batch's lookup):
    /// the password must match the hash, and the client must be active.
    package static func decide(_ credential: ClientCredential, passwordHash: String?, status: String?, options: PostgresJSON?) throws -> AuthenticatedClient {
        guard let passwordHash, let status, let options,
              CredentialSecrets.verify(password: credential.password, against: passwordHash)
        else { throw ClientCredential.rejected }
        guard status == "active" else { throw ReceiverError.clientSuspended(clientId: credential.clientId) }
        return AuthenticatedClient(clientId: credential.clientId, options: try ClientOptions(stored: options))
    }
}
