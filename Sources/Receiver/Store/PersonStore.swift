import Foundation
import Postgres

/// Filters of a prospect or member list.
struct PersonListFilter {
    var clubId: String?
    var email: String?
    var externalId: String?
    var updatedSince: Date?
    var includeDisabledClubs = false
}

/// SQL for prospects and members. Every statement is scoped by client id.
enum PersonStore<Record: PersonRecord> {
    static func find(_ id: UUID, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> Record? {
        try connection.query("""
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            WHERE p.client_id = \(clientId) AND p.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF p" : "")
            """).first.map(Record.init(row:))
    }

    static func find(externalId: String, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> Record? {
        try connection.query("""
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            WHERE p.client_id = \(clientId) AND p.external_id = \(externalId) \(unescaped: forUpdate ? "FOR UPDATE OF p" : "")
            """).first.map(Record.init(row:))
    }

    /// Ordered by `updatedAt`, then id: a client polling with `updatedSince`
    /// pages through changes in the order they happened.
    static func list(clientId: String, filter: PersonListFilter, page: Page, on connection: PostgresConnection) throws -> [Record] {
        let afterMicros = page.after.flatMap { Int($0[0]) }
        let afterId = page.after.flatMap { UUID(uuidString: $0[1]) }
        if page.after != nil, afterMicros == nil || afterId == nil {
            throw Problem.badRequest("cursor is not a cursor this list returned; start again without it.")
        }
        return try connection.query("""
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            JOIN clubs c ON c.client_id = p.client_id AND c.club_id = p.club_id
            WHERE p.client_id = \(clientId)
              AND (\(filter.includeDisabledClubs) OR c.enabled)
              AND (\(filter.clubId)::text IS NULL OR p.club_id = \(filter.clubId))
              AND (\(filter.email)::text IS NULL OR lower(p.email) = lower(\(filter.email)))
              AND (\(filter.externalId)::text IS NULL OR p.external_id = \(filter.externalId))
              AND (\(filter.updatedSince)::timestamptz IS NULL OR p.updated_at >= \(filter.updatedSince))
              AND (\(afterMicros)::bigint IS NULL
                   OR (p.updated_at, p.id) > ('epoch'::timestamptz + \(afterMicros) * interval '1 microsecond', \(afterId)))
            ORDER BY p.updated_at, p.id
            LIMIT \(page.limit + 1)
            """).map(Record.init(row:))
    }

    static func sortKey(_ record: Record) -> [String] {
        [String(record.updatedMicros), record.id.lowercasedString]
    }

    /// The club must be one of the client's and switched on (422 on `clubId` otherwise).
    static func checkClub(_ clubId: String, clientId: String, on connection: PostgresConnection) throws {
        let enabled = try connection.query("""
            SELECT enabled FROM clubs WHERE client_id = \(clientId) AND club_id = \(clubId)
            """).first?.decode(0, as: Bool.self)
        guard let enabled else { throw Problem.invalidField("clubId", "is not one of your clubs") }
        guard enabled else { throw Problem.invalidField("clubId", "is switched off and accepts no writes; ask the receiver's administrators to enable it") }
    }

    static func insert(_ input: Record.Input, clientId: String, extra: [(String, PostgresBinding)] = [], on connection: PostgresConnection) throws -> Record {
        var builder = StatementBuilder()
        let columns = [("client_id", PostgresBinding(clientId)), ("id", PostgresBinding(RecordID.make()))]
            + Array(zip(PersonFields.columnNames, input.person.bindings)) + (try input.extraColumns()) + extra
        let inserted = try connection.query(builder.insert(into: Record.table, columns: columns, returning: "id"))
        return try reload(try inserted[0].decode(0, as: UUID.self), clientId: clientId, on: connection)
    }

    /// Writes `input` over `current`; the version moves only when a field changes.
    static func update(_ current: Record, to input: Record.Input, clientId: String, on connection: PostgresConnection) throws -> Record {
        guard input != current.input else { return current }
        var builder = StatementBuilder()
        let columns = Array(zip(PersonFields.columnNames, input.person.bindings)) + (try input.extraColumns())
        try connection.query(builder.update(Record.table, columns: columns, clientId: clientId, id: current.id, returning: "id"))
        return try reload(current.id, clientId: clientId, on: connection)
    }

    private static func reload(_ id: UUID, clientId: String, on connection: PostgresConnection) throws -> Record {
        guard let record = try find(id, clientId: clientId, on: connection) else {
            throw PostgresError(kind: .client, message: "\(Record.noun) \(id) vanished inside its own transaction")
        }
        return record
    }

    /// Smart matching (contract, "Matching on save"): among the client's records
    /// without an external id, the first rule that finds anything decides;
    /// exactly one match is adopted, several are ambiguous (nil: create).
    /// The candidate is locked and re-checked (`FOR UPDATE` re-evaluates the
    /// WHERE clause), so two saves cannot adopt the same record.
    static func smartMatch(_ person: PersonFields, clientId: String, on connection: PostgresConnection) throws -> Record? {
        guard let first = person.firstName, let last = person.lastName else { return nil }
        let email = person.email
        let mobile = person.phones.mobile.map { $0.filter(\.isNumber) }.flatMap { $0.isEmpty ? nil : $0 }
        var rules: [(email: String?, mobile: String?)] = []
        if let email, let mobile { rules.append((email, mobile)) }
        if let email { rules.append((email, nil)) }
        if let mobile { rules.append((nil, mobile)) }
        for rule in rules {
            let matches = try connection.query("""
                SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
                WHERE p.client_id = \(clientId) AND p.external_id IS NULL
                  AND lower(p.first_name) = lower(\(first)) AND lower(p.last_name) = lower(\(last))
                  AND (\(rule.email)::text IS NULL OR lower(p.email) = lower(\(rule.email)))
                  AND (\(rule.mobile)::text IS NULL OR p.mobile_digits = \(rule.mobile))
                ORDER BY p.id
                LIMIT 2
                FOR UPDATE OF p
                """).map(Record.init(row:))
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { return nil }
        }
        return nil
    }
}
