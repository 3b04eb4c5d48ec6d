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

    /// Inserts a record and returns it as stored; with `resolving`, the open sync
    /// errors of the record are resolved in the same statement (one round trip).
    static func insert(
        _ input: Record.Input, clientId: String, extra: [(String, PostgresBinding)] = [],
        resolving resource: SyncErrorResource?, on connection: PostgresConnection
    ) throws -> Record {
        var builder = StatementBuilder()
        let columns = [("client_id", PostgresBinding(clientId)), ("id", PostgresBinding(RecordID.make()))]
            + Array(zip(PersonFields.columnNames, input.person.bindings)) + (try input.extraColumns()) + extra
        let insert = builder.insert(into: Record.table, columns: columns, returning: "*")
        return try written(insert.sql, clientId: clientId, resolving: resource, builder: &builder, on: connection)
    }

    /// Writes `input` over `current` and returns the record as stored; the
    /// version moves only when a field changes (otherwise nothing is written,
    /// and sync errors are not touched).
    static func update(
        _ current: Record, to input: Record.Input, clientId: String,
        resolving resource: SyncErrorResource?, on connection: PostgresConnection
    ) throws -> Record {
        guard input != current.input else { return current }
        var builder = StatementBuilder()
        let columns = Array(zip(PersonFields.columnNames, input.person.bindings)) + (try input.extraColumns())
        let update = builder.update(Record.table, columns: columns, clientId: clientId, id: current.id, returning: "*")
        return try written(update.sql, clientId: clientId, resolving: resource, builder: &builder, on: connection)
    }

    /// `WITH p AS (<write> RETURNING *) SELECT <the record> FROM p …`, plus the
    /// sync-error resolution as a second data-modifying CTE.
    private static func written(
        _ write: String, clientId: String, resolving resource: SyncErrorResource?,
        builder: inout StatementBuilder, on connection: PostgresConnection
    ) throws -> Record {
        var resolution = ""
        if let resource {
            resolution = ", resolved AS (\(resolvingSyncErrors(of: "p", resource: builder.bind(resource.rawValue), clientIds: builder.bind([clientId]))))"
        }
        let sql = "WITH p AS (\(write))\(resolution) SELECT \(Record.selectList) FROM p"
        guard let row = try connection.query(PostgresQuery(sql: sql, bindings: builder.bindings)).first else {
            throw PostgresError(kind: .client, message: "\(Record.noun) vanished inside its own transaction")
        }
        return try Record(row: row)
    }

    /// Smart matching (contract, "Matching on save"): among the client's records
    /// without an external id and with the same first and last name, the first
    /// rule that finds anything decides — email and mobile, then email, then
    /// mobile — and exactly one match is adopted; several are ambiguous (nil: create).
    /// Inside a transaction (which keeps generic plans from then on).
    static func smartMatch(_ person: PersonFields, clientId: String, on connection: PostgresConnection) throws -> Record? {
        guard let key = MatchKey(person), let query = smartMatchQuery([(clientId, nil, key)]) else { return nil }
        return try smartMatches(in: try connection.pipeline([BatchColumns.genericPlans, query])[1], count: 1)[0]
    }

    /// Smart matching for keys in one statement; one result per key, in order.
    /// (A batch of saves matches within its lookup, `lookUp`, with the same `MatchSQL`.)
    ///
    /// Each key's candidates are ordered so that the first two rows settle every
    /// rule (`MatchSQL.order`). The rows returned are locked and re-checked
    /// (`FOR UPDATE` re-evaluates the WHERE clause), so two transactions cannot
    /// adopt the same record. A key whose `externalId` already names a record
    /// matches nothing. Read the rows with `smartMatches(in:count:)`; nil when
    /// there are no keys.
    static func smartMatchQuery(_ keys: [(clientId: String, externalId: String?, key: MatchKey)]) -> PostgresQuery? {
        guard !keys.isEmpty else { return nil }
        var rows = BatchColumns(["n", "client_id", "external_id", "first_name", "last_name", "email", "mobile"])
        for (index, entry) in keys.enumerated() {
            rows.append([PostgresBinding(index), PostgresBinding(entry.clientId), PostgresBinding(entry.externalId),
                         PostgresBinding(entry.key.first), PostgresBinding(entry.key.last),
                         PostgresBinding(entry.key.email), PostgresBinding(entry.key.mobile)])
        }
        let sql = StatementCache.sql(Record.self, "smartMatches") { """
            SELECT i.n, m.* FROM \(rows.rows(as: "i"))
            CROSS JOIN LATERAL (
                SELECT \(Record.selectList), \(MatchSQL.emailMatches) AS email_matches, \(MatchSQL.mobileMatches) AS mobile_matches
                FROM \(Record.fromClause)
                WHERE p.client_id = i.client_id AND \(MatchSQL.candidate(Record.table))
                ORDER BY \(MatchSQL.order)
                LIMIT 2
                FOR UPDATE OF p
            ) m
            """ }
        return PostgresQuery(sql: sql, bindings: rows.bindings)
    }

    /// The rows of `smartMatchQuery`: the record each key adopts, if any, in order.
    static func smartMatches(in rows: PostgresRows, count: Int) throws -> [Record?] {
        var candidates = [[(record: Record, email: Bool, mobile: Bool)]](repeating: [], count: count)
        for row in rows {
            let index = try row.decode("n", as: Int.self)
            candidates[index].append((try Record(row: row), try row.decode("email_matches", as: Bool.self), try row.decode("mobile_matches", as: Bool.self)))
        }
        return candidates.map(Self.adopted)
    }

    /// The rules over a key's (at most two) candidates; their order does not matter.
    static func adopted(_ candidates: [(record: Record, email: Bool, mobile: Bool)]) -> Record? {
        let rules: [((email: Bool, mobile: Bool)) -> Bool] = [
            { $0.email && $0.mobile },
            { $0.email },
            { $0.mobile },
        ]
        for rule in rules {
            let matches = candidates.filter { rule(($0.email, $0.mobile)) }
            if matches.count == 1 { return matches[0].record }
            if matches.count > 1 { return nil }
        }
        return nil
    }
}

/// The SQL of smart matching, shared by the lone save's statement and the batch's
/// lookup: a record `p` against a save's key `i` (`first_name`, `last_name`,
/// `email`, `mobile`, and its `external_id`, under which a record must not exist).
enum MatchSQL {
    static let emailMatches = "coalesce(lower(p.email) = lower(i.email), false)"
    static let mobileMatches = "coalesce(p.mobile_digits = i.mobile, false)"

    /// Whether `p` is a candidate: no external id, the same names, and the same
    /// email or mobile; and nothing of `table` has the save's external id yet.
    static func candidate(_ table: String) -> String {
        """
        p.external_id IS NULL
                  AND lower(p.first_name) = lower(i.first_name) AND lower(p.last_name) = lower(i.last_name)
                  AND (lower(p.email) = lower(i.email) OR p.mobile_digits = i.mobile)
                  AND NOT EXISTS (SELECT FROM \(table) x WHERE x.client_id = i.client_id AND x.external_id = i.external_id)
        """
    }

    /// Candidates in the order whose first two rows settle every rule: matches on
    /// email and mobile first, then on email, then the rest (on mobile only).
    static let order = "(\(emailMatches) AND \(mobileMatches)) DESC, \(emailMatches) DESC, p.id"
}

/// What smart matching compares: both names, and an email or mobile digits.
struct MatchKey: Sendable {
    let first: String
    let last: String
    let email: String?
    let mobile: String?

    /// nil when the person cannot be matched (a name missing, or neither email nor mobile).
    init?(_ person: PersonFields) {
        guard let first = person.firstName, let last = person.lastName else { return nil }
        let mobile = person.phones.mobile.map { $0.filter(\.isNumber) }.flatMap { $0.isEmpty ? nil : $0 }
        guard person.email != nil || mobile != nil else { return nil }
        (self.first, self.last, self.email, self.mobile) = (first, last, person.email, mobile)
    }
}
