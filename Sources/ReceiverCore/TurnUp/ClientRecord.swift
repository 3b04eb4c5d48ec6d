import Foundation
import Postgres

/// A turned-up client as the admin API shows it: never a password or a hash,
/// only the username of its active credential.
public struct ClientRecord: Sendable {
    public var clientId: String
    public var name: String
    /// `active` or `suspended`.
    public var status: String
    public var connection: ClientConnection
    public var options: ClientOptions
    /// Ordered by `clubId`.
    public var clubs: [ClubRecord]
    /// The username of the active credential.
    public var username: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    /// The values of `status`: a suspended client's `/v1` requests are answered 403.
    public static let statuses = ["active", "suspended"]

    /// The client's columns plus the active credential's username.
    package static let columns = """
        c.client_id, c.name, c.status, c.connection, c.options, c.created_at, c.updated_at, c.version,
        (SELECT cr.username FROM credentials cr WHERE cr.client_id = c.client_id AND cr.revoked_at IS NULL AND cr.role = 'connector') AS username
        """

    package init(row: PostgresRow, clubs: [ClubRecord]) throws {
        clientId = try row.decode("client_id")
        name = try row.decode("name")
        status = try row.decode("status")
        let connectionJSON = try JSONParser.parse(Array(try row.decode("connection", as: PostgresJSON.self).text.utf8))
        connection = ClientConnection(stored: connectionJSON.objectValue ?? [:])
        options = try ClientOptions(stored: try row.decode("options", as: PostgresJSON.self))
        username = try row.decode("username")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
        self.clubs = clubs
    }

    /// The `Client` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "clientId": .string(clientId),
            "name": .string(name),
            "status": .string(status),
            "connection": .object(connection.json),
            "options": options.json,
            "clubs": .array(clubs.map { .object($0.json) }),
            "username": .optional(username),
            "createdAt": .string(Timestamp.format(createdAt)),
            "updatedAt": .string(Timestamp.format(updatedAt)),
            "version": .number(Double(version)),
        ]
    }

    /// What the Connector's team needs to configure the client (`TurnUpSheet`).
    public var turnUpSheet: TurnUpSheet {
        TurnUpSheet(clientId: clientId, clubIds: clubs.map(\.clubId), baseURL: connection.baseURL, username: username ?? "")
    }
}

/// The turn-up sheet: client ID, club IDs, base URL and username — everything
/// but the password, which travels separately (the issuing response only).
public struct TurnUpSheet: Sendable, Equatable {
    public var clientId: String
    /// Ordered by `clubId`, disabled clubs included.
    public var clubIds: [String]
    /// `ClientConnection.baseURL`: the Connector appends `/v1/...`.
    public var baseURL: String
    /// The username of the active credential.
    public var username: String

    /// The `TurnUpSheet` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "clientId": .string(clientId),
            "clubIds": .array(clubIds.map(JSONValue.string)),
            "baseUrl": .string(baseURL),
            "username": .string(username),
        ]
    }
}
