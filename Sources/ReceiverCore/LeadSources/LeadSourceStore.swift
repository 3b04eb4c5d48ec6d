import Foundation
import Postgres

/// SQL for lead sources. Every statement is scoped by client id.
package enum LeadSourceStore {
    package static func find(_ id: UUID, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> LeadSource? {
        try connection.query("""
            SELECT \(unescaped: LeadSource.columns) FROM lead_sources
            WHERE client_id = \(clientId) AND id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """).first.map(LeadSource.init(row:))
    }

    /// The lead source `id` of the client, or `notFound`.
    public static func require(_ id: String, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> LeadSource {
        guard let uuid = RecordID.parse(id), let source = try find(uuid, clientId: clientId, on: connection, forUpdate: forUpdate)
        else { throw ReceiverError.notFound("No lead source with id \(id).") }
        return source
    }

    /// Applies a JSON merge patch to the lead source `id`, locked, if `condition`
    /// holds. Run it in a transaction.
    public static func patch(
        _ id: String, with patch: JSONObject, condition: VersionCondition?, clientId: String, on connection: PostgresConnection
    ) throws -> LeadSource {
        let current = try require(id, clientId: clientId, on: connection, forUpdate: true)
        try condition.check(currentVersion: current.version)
        let merged = JSONMergePatch.apply(.object(patch), to: .object(current.inputJSON)).objectValue ?? [:]
        return try update(current, to: try LeadSourceInput.parse(merged).validated(), clientId: clientId, on: connection)
    }

    /// Deactivates the lead source `id` (records keep their reference), if
    /// `condition` holds. Run it in a transaction.
    public static func deactivate(_ id: String, condition: VersionCondition?, clientId: String, on connection: PostgresConnection) throws {
        let current = try require(id, clientId: clientId, on: connection, forUpdate: true)
        try condition.check(currentVersion: current.version)
        var input = try LeadSourceInput.parse(current.inputJSON).validated()
        input.active = false
        _ = try update(current, to: input, clientId: clientId, on: connection)
    }

    /// Lead sources ordered by name (case-insensitively), then id.
    package static func list(clientId: String, active: Bool?, page: Page, on connection: PostgresConnection) throws -> [LeadSource] {
        let afterName = page.after?[0]
        let afterId = page.after.flatMap { UUID(uuidString: $0[1]) }
        return try connection.query("""
            SELECT \(unescaped: LeadSource.columns) FROM lead_sources
            WHERE client_id = \(clientId)
              AND (\(active)::boolean IS NULL OR active = \(active))
              AND (\(afterName)::text IS NULL OR (lower(name), id) > (\(afterName), \(afterId)))
            ORDER BY lower(name), id
            LIMIT \(page.limit + 1)
            """).map(LeadSource.init(row:))
    }

    package static func sortKey(_ source: LeadSource) -> [String] {
        [source.name.lowercased(), source.id.lowercasedString]
    }

    package static func create(_ input: LeadSourceInput, clientId: String, on connection: PostgresConnection) throws -> LeadSource {
        try checkNameFree(input.name, except: nil, clientId: clientId, on: connection)
        do {
            let row = try connection.query("""
                INSERT INTO lead_sources (client_id, id, name, external_id, active)
                VALUES (\(clientId), \(RecordID.make()), \(input.name), \(input.externalId), \(input.active))
                RETURNING \(unescaped: LeadSource.columns)
                """)
            let source = try LeadSource(row: row[0])
            try recordEvent(source, created: true, clientId: clientId, on: connection)
            return source
        } catch let error as PostgresError where error.code == .uniqueViolation {
            // A concurrent write took the name between the check and the write.
            throw duplicateName(input.name, existingId: nil)
        }
    }

    /// Writes `input` over the stored source; the version moves only if a field changes.
    package static func update(_ current: LeadSource, to input: LeadSourceInput, clientId: String, on connection: PostgresConnection) throws -> LeadSource {
        guard input != LeadSourceInput(name: current.name, externalId: current.externalId, active: current.active) else {
            return current
        }
        try checkNameFree(input.name, except: current.id, clientId: clientId, on: connection)
        do {
            let rows = try connection.query("""
                UPDATE lead_sources
                SET name = \(input.name), external_id = \(input.externalId), active = \(input.active),
                    updated_at = now(), version = version + 1, event_xid = \(unescaped: EventLog.nextPosition(of: "lead_sources"))
                WHERE client_id = \(clientId) AND id = \(current.id)
                RETURNING \(unescaped: LeadSource.columns)
                """)
            let source = try LeadSource(row: rows[0])
            try recordEvent(source, created: false, clientId: clientId, on: connection)
            return source
        } catch let error as PostgresError where error.code == .uniqueViolation {
            // A concurrent write took the name between the check and the write.
            throw duplicateName(input.name, existingId: nil)
        }
    }

    /// `lead_source.created` or `lead_source.updated`, in the write's transaction.
    private static func recordEvent(_ source: LeadSource, created: Bool, clientId: String, on connection: PostgresConnection) throws {
        try EventLog.record([NewEvent(
            type: created ? "lead_source.created" : "lead_source.updated", clientId: clientId, clubId: nil,
            recordId: source.id, version: source.version, data: source.json)], of: "lead_sources", on: connection)
    }

    private static func checkNameFree(_ name: String, except id: UUID?, clientId: String, on connection: PostgresConnection) throws {
        let existing = try connection.query("""
            SELECT id FROM lead_sources
            WHERE client_id = \(clientId) AND lower(name) = lower(\(name)) AND id IS DISTINCT FROM \(id)
            """).first?.decode(0, as: UUID.self)
        if let existing { throw duplicateName(name, existingId: existing) }
    }

    private static func duplicateName(_ name: String, existingId: UUID?) -> ReceiverError {
        .conflict("A lead source named \"\(name)\" already exists (names are unique, ignoring case).", existingId: existingId)
    }
}
