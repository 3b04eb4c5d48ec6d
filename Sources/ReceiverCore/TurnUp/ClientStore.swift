import Foundation
import Postgres

/// SQL for clients, clubs and credentials: the one implementation behind both
/// `/admin/v1` and `connector-receiver turnup`.
///
/// Every change runs in one transaction that first locks the client's row
/// (`FOR NO KEY UPDATE`, which does not block `/v1` writes referencing the
/// client), so concurrent admin changes of one client take turns, and records
/// its audit event in that same transaction.
public enum ClientStore {
    /// Creates the client with its clubs and first credential in one transaction,
    /// audited as `client.create`. Throws `ReceiverError.conflict` when the client id is taken.
    public static func turnUp(_ request: TurnUpRequest, by audit: AuditContext, on connection: PostgresConnection) throws -> TurnedUpClient {
        let credential = newCredential(clientId: request.clientId)
        do {
            let client = try connection.transaction { connection in
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
                let client = try require(request.clientId, on: connection)
                try AuditLog.record("client.create", clientId: request.clientId, changes: [
                    "name": .string(client.name),
                    "clubs": .array(client.clubs.map { .string($0.clubId) }),
                    "connection": .object(client.connection.json),
                    "options": client.options.json,
                    "username": .string(credential.username),
                ], by: audit, on: connection)
                return client
            }
            return TurnedUpClient(client: client, credential: credential)
        } catch let error as PostgresError where error.code == .uniqueViolation && error.constraint == "clients_pkey" {
            throw ReceiverError.conflict("A client with clientId \(request.clientId) is already turned up.")
        }
    }

    /// Turns up a client as the `system` actor and returns only its credential
    /// (test and fixture set-up).
    @discardableResult
    public static func turnUp(_ request: TurnUpRequest, on connection: PostgresConnection) throws -> IssuedCredential {
        try turnUp(request, by: .system, on: connection).credential
    }

    /// Revokes the active credential and issues a new one, in one transaction:
    /// the old password stops working when this commits (`/v1` authentication
    /// reads the database on every request). Audited as `credentials.rotate`
    /// with the new username only. 404 for an unknown client.
    public static func rotateCredential(clientId: String, by audit: AuditContext = .system, on connection: PostgresConnection) throws -> IssuedCredential {
        let credential = newCredential(clientId: clientId)
        try connection.transaction { connection in
            _ = try lock(clientId, on: connection)
            try connection.execute("""
                UPDATE credentials SET revoked_at = now() WHERE client_id = \(clientId) AND revoked_at IS NULL AND role = 'connector'
                """)
            try insert(credential, clientId: clientId, on: connection)
            // The client's representation carries the username: a new version.
            try touch(clientId, on: connection)
            try AuditLog.record("credentials.rotate", clientId: clientId, changes: ["username": .string(credential.username)], by: audit, on: connection)
        }
        return credential
    }

    // MARK: - Reading

    /// The client, or nil.
    public static func find(_ clientId: String, on connection: PostgresConnection) throws -> ClientRecord? {
        let rows = try connection.query("SELECT \(unescaped: ClientRecord.columns) FROM clients c WHERE c.client_id = \(clientId)")
        guard let row = rows.first else { return nil }
        return try ClientRecord(row: row, clubs: clubs(of: [clientId], on: connection)[clientId] ?? [])
    }

    /// The client, or a 404 problem.
    public static func require(_ clientId: String, on connection: PostgresConnection) throws -> ClientRecord {
        guard let client = try find(clientId, on: connection) else { throw unknownClient(clientId) }
        return client
    }

    /// A 404 unless the client exists.
    public static func requireExists(_ clientId: String, on connection: PostgresConnection) throws {
        guard try !connection.query("SELECT 1 FROM clients WHERE client_id = \(clientId)").isEmpty else {
            throw unknownClient(clientId)
        }
    }

    public static func unknownClient(_ clientId: String) -> ReceiverError {
        ReceiverError.notFound("No client \(clientId).")
    }

    /// Clients ordered by `clientId` (byte order), those after `after`, at most `limit`.
    public static func list(after: String?, limit: Int, on connection: PostgresConnection) throws -> [ClientRecord] {
        let rows = try connection.query("""
            SELECT \(unescaped: ClientRecord.columns) FROM clients c
            WHERE (\(after)::text IS NULL OR c.client_id COLLATE "C" > \(after))
            ORDER BY c.client_id COLLATE "C"
            LIMIT \(limit)
            """)
        let ids = try rows.map { try $0.decode("client_id", as: String.self) }
        let clubsByClient = try clubs(of: ids, on: connection)
        return try rows.map { row in
            try ClientRecord(row: row, clubs: clubsByClient[try row.decode("client_id", as: String.self)] ?? [])
        }
    }

    /// The clubs of each of `clientIds`, ordered by `clubId` (byte order).
    package static func clubs(of clientIds: [String], on connection: PostgresConnection) throws -> [String: [ClubRecord]] {
        guard !clientIds.isEmpty else { return [:] }
        var result: [String: [ClubRecord]] = [:]
        for row in try connection.query("""
            SELECT client_id, \(unescaped: ClubRecord.columns) FROM clubs
            WHERE client_id = ANY(\(clientIds))
            ORDER BY client_id, club_id COLLATE "C"
            """) {
            result[try row.decode("client_id", as: String.self), default: []].append(try ClubRecord(row: row))
        }
        return result
    }

    // MARK: - Changing

    /// Changes name, connection, options or status. `makeChanges` gets the
    /// current client, locked for the transaction (check `If-Match`, apply a
    /// merge patch there). Nothing changes, nothing is written: same version, no
    /// audit event. Otherwise one new version and one event: `client.suspend`,
    /// `client.resume` when only the status changed, else `client.update`.
    public static func update(
        _ clientId: String, by audit: AuditContext, on connection: PostgresConnection,
        _ makeChanges: (ClientRecord) throws -> ClientChanges
    ) throws -> ClientRecord {
        try connection.transaction { connection in
            let current = try lock(clientId, on: connection)
            let wanted = try makeChanges(current)
            var changes = JSONObject()
            if wanted.name != current.name { changes["name"] = AuditLog.change(.string(current.name), .string(wanted.name)) }
            if wanted.connection != current.connection {
                changes["connection"] = AuditLog.change(.object(current.connection.json), .object(wanted.connection.json))
            }
            if wanted.options != current.options {
                var optionChanges = JSONObject()
                let before = current.options.json.objectValue ?? [:], after = wanted.options.json.objectValue ?? [:]
                for (name, value) in after.members where before[name] != value {
                    optionChanges[name] = AuditLog.change(before[name] ?? .null, value)
                }
                changes["options"] = .object(optionChanges)
            }
            if wanted.status != current.status { changes["status"] = AuditLog.change(.string(current.status), .string(wanted.status)) }
            guard !changes.isEmpty else { return current }

            try connection.execute("""
                UPDATE clients
                SET name = \(wanted.name), status = \(wanted.status),
                    connection = \(PostgresJSON(text: String(decoding: JSONWriter.serialize(.object(wanted.connection.json)), as: UTF8.self))),
                    options = \(PostgresJSON(text: String(decoding: JSONWriter.serialize(wanted.options.json), as: UTF8.self))),
                    updated_at = now(), version = version + 1
                WHERE client_id = \(clientId)
                """)
            let action: String
            if changes.members.count == 1, changes["status"] != nil {
                action = wanted.status == "suspended" ? "client.suspend" : "client.resume"
            } else {
                action = "client.update"
            }
            try AuditLog.record(action, clientId: clientId, changes: changes, by: audit, on: connection)
            return try require(clientId, on: connection)
        }
    }

    /// Adds the club (`created` true) or writes `input` over it; the version of
    /// the client moves when anything changes, since its representation lists
    /// its clubs. Audited as `club.create` or `club.update` (changed fields only).
    public static func upsertClub(
        _ input: ClubInput, clientId: String, by audit: AuditContext, on connection: PostgresConnection
    ) throws -> (club: ClubRecord, created: Bool) {
        guard Identifier.isValid(input.clubId) else { throw ReceiverError.invalidField("clubId", Identifier.rule) }
        return try connection.transaction { connection in
            _ = try lock(clientId, on: connection)
            let existing = try connection.query("""
                SELECT \(unescaped: ClubRecord.columns) FROM clubs
                WHERE client_id = \(clientId) AND club_id = \(input.clubId) FOR UPDATE
                """).first.map(ClubRecord.init(row:))
            guard let existing else {
                let row = try connection.query("""
                    INSERT INTO clubs (client_id, club_id, name, enabled)
                    VALUES (\(clientId), \(input.clubId), \(input.name), \(input.enabled))
                    RETURNING \(unescaped: ClubRecord.columns)
                    """)
                try touch(clientId, on: connection)
                try AuditLog.record("club.create", clientId: clientId, changes: [
                    "clubId": .string(input.clubId), "name": .string(input.name), "enabled": .bool(input.enabled),
                ], by: audit, on: connection)
                return (try ClubRecord(row: row[0]), true)
            }
            var changes: JSONObject = ["clubId": .string(input.clubId)]
            if existing.name != input.name { changes["name"] = AuditLog.change(.string(existing.name), .string(input.name)) }
            if existing.enabled != input.enabled { changes["enabled"] = AuditLog.change(.bool(existing.enabled), .bool(input.enabled)) }
            guard changes.members.count > 1 else { return (existing, false) }
            let row = try connection.query("""
                UPDATE clubs SET name = \(input.name), enabled = \(input.enabled), updated_at = now()
                WHERE client_id = \(clientId) AND club_id = \(input.clubId)
                RETURNING \(unescaped: ClubRecord.columns)
                """)
            try touch(clientId, on: connection)
            try AuditLog.record("club.update", clientId: clientId, changes: changes, by: audit, on: connection)
            return (try ClubRecord(row: row[0]), false)
        }
    }

    /// The client's row, locked until the transaction ends; 404 if there is none.
    /// `FOR NO KEY UPDATE` rather than `FOR UPDATE`: `/v1` inserts that reference
    /// the client take `FOR KEY SHARE` on it and must not wait for an admin change.
    package static func lock(_ clientId: String, on connection: PostgresConnection) throws -> ClientRecord {
        let rows = try connection.query("""
            SELECT \(unescaped: ClientRecord.columns) FROM clients c WHERE c.client_id = \(clientId) FOR NO KEY UPDATE
            """)
        guard let row = rows.first else { throw unknownClient(clientId) }
        return try ClientRecord(row: row, clubs: clubs(of: [clientId], on: connection)[clientId] ?? [])
    }

    /// A new version of the client whose clubs or credential changed.
    private static func touch(_ clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("UPDATE clients SET updated_at = now(), version = version + 1 WHERE client_id = \(clientId)")
    }

    package static func newCredential(clientId: String) -> IssuedCredential {
        IssuedCredential(username: "\(clientId).\(CredentialSecrets.randomToken(length: 10))", password: CredentialSecrets.newPassword())
    }

    private static func insert(_ credential: IssuedCredential, clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("""
            INSERT INTO credentials (client_id, username, password_hash)
            VALUES (\(clientId), \(credential.username), \(CredentialSecrets.hash(password: credential.password)))
            """)
    }
}
