import Foundation
import Postgres

/// A client as turned up: what `turnUp` needs.
public struct TurnUpRequest: Sendable {
    public var clientId: String
    public var name: String
    public var clubs: [(clubId: String, name: String, enabled: Bool)]
    public var connection: JSONObject
    public var options: ClientOptions

    public init(clientId: String, name: String, clubs: [(clubId: String, name: String, enabled: Bool)],
                connection: JSONObject, options: ClientOptions = ClientOptions()) {
        self.clientId = clientId
        self.name = name
        self.clubs = clubs
        self.connection = connection
        self.options = options
    }
}

/// A credential as issued: the only time the password exists in clear.
public struct IssuedCredential: Sendable {
    public let username: String
    public let password: String
}

/// SQL for clients, clubs and credentials.
public enum ClientStore {
    /// Creates the client with its clubs and first credential in one transaction.
    /// Throws `Problem.conflict` when the client id is taken.
    public static func turnUp(_ request: TurnUpRequest, on connection: PostgresConnection) throws -> IssuedCredential {
        let credential = newCredential(clientId: request.clientId)
        do {
            try connection.transaction { connection in
                try connection.execute("""
                    INSERT INTO clients (client_id, name, connection, options)
                    VALUES (\(request.clientId), \(request.name),
                            \(PostgresJSON(text: String(decoding: JSONWriter.serialize(.object(request.connection)), as: UTF8.self))),
                            \(PostgresJSON(text: String(decoding: JSONWriter.serialize(request.options.json), as: UTF8.self))))
                    """)
                for club in request.clubs {
                    try connection.execute("""
                        INSERT INTO clubs (client_id, club_id, name, enabled)
                        VALUES (\(request.clientId), \(club.clubId), \(club.name), \(club.enabled))
                        """)
                }
                try insert(credential, clientId: request.clientId, on: connection)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation && error.constraint == "clients_pkey" {
            throw Problem.conflict("A client with clientId \(request.clientId) is already turned up.")
        }
        return credential
    }

    /// Revokes the active credential and issues a new one, in one transaction:
    /// the old password stops working when this commits.
    public static func rotateCredential(clientId: String, on connection: PostgresConnection) throws -> IssuedCredential {
        let credential = newCredential(clientId: clientId)
        try connection.transaction { connection in
            try connection.execute("""
                UPDATE credentials SET revoked_at = now() WHERE client_id = \(clientId) AND revoked_at IS NULL
                """)
            try insert(credential, clientId: clientId, on: connection)
        }
        return credential
    }

    static func newCredential(clientId: String) -> IssuedCredential {
        IssuedCredential(username: "\(clientId).\(CredentialSecrets.randomToken(length: 10))", password: CredentialSecrets.newPassword())
    }

    private static func insert(_ credential: IssuedCredential, clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO credentials (client_id, username, password_hash)
            VALUES (\(clientId), \(credential.username), \(CredentialSecrets.hash(password: credential.password)))
            """)
    }
}
