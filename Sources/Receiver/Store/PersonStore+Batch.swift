import Foundation
import Postgres
import Synchronization

/// The statements of a batch of saves: each handles every save of the batch at
/// once, its rows passed as one array per column (`BatchColumns`), so the SQL
/// text and its prepared statement are the same whatever the batch size.
extension PersonStore {
    /// What a batch needs to know about a save before writing: the credential of
    /// the client it claims to act for, its club, and its record, locked; or, for
    /// an external id without a record, the record smart matching would adopt.
    struct Lookup {
        /// The stored hash of the username's active credential, if there is one.
        var passwordHash: String?
        /// The client's status and options, with the credential.
        var clientStatus: String?
        var clientOptions: PostgresJSON?
        /// The club's `enabled`; nil when the client has no such club.
        var clubEnabled: Bool?
        /// The record with the save's external id, if any, locked `FOR UPDATE`.
        var current: Record?
        /// When there is no such record: the one smart matching adopts, if any,
        /// locked (whether the client matches at all is for the caller to ask).
        var match: Record?
        /// Whether the client has open sync errors about this kind of record: only
        /// then do the batch's writes carry the statement that resolves them.
        var syncErrorsOpen = false
    }

    /// One statement for the whole batch (read by `lookups(in:count:)`), smart
    /// matching included: the lateral join gives a save its record by external id,
    /// or else up to two match candidates (`MatchSQL`), which settle the rules. A
    /// save without a match key has null names and matches nothing.
    ///
    /// The password is checked afterwards, in Swift: a save with a wrong one may
    /// have locked the claimed client's records, but only for this batch's
    /// transaction, and nothing is written for it. Records of suspended or unknown
    /// clients are not locked at all.
    static func lookUp(_ saves: [(clientId: String, username: String, externalId: String, clubId: String, key: MatchKey?)]) -> PostgresQuery {
        var rows = BatchColumns(["n", "client_id", "username", "external_id", "club_id", "first_name", "last_name", "email", "mobile"])
        for (index, save) in saves.enumerated() {
            rows.append([PostgresBinding(index), PostgresBinding(save.clientId), PostgresBinding(save.username),
                         PostgresBinding(save.externalId), PostgresBinding(save.clubId),
                         PostgresBinding(save.key?.first), PostgresBinding(save.key?.last),
                         PostgresBinding(save.key?.email), PostgresBinding(save.key?.mobile)])
        }
        let sql = StatementCache.sql(Record.self, "lookUp") { """
            SELECT i.n, c.password_hash, cl.status AS client_status, cl.options AS client_options,
                   (SELECT k.enabled FROM clubs k WHERE k.client_id = i.client_id AND k.club_id = i.club_id) AS club_enabled,
                   EXISTS (SELECT FROM sync_errors e WHERE e.client_id = cl.client_id AND e.resolved_at IS NULL AND e.resource = $\(rows.names.count + 1))
                       AS sync_errors_open,
                   \(TransactionClock.selectList),
                   f.*
            FROM \(rows.rows(as: "i"))
            LEFT JOIN credentials c ON c.client_id = i.client_id AND c.username = i.username AND c.revoked_at IS NULL
            LEFT JOIN clients cl ON cl.client_id = c.client_id
            LEFT JOIN LATERAL (
                SELECT \(Record.selectList), p.external_id IS NULL AS candidate,
                       \(MatchSQL.emailMatches) AS email_matches, \(MatchSQL.mobileMatches) AS mobile_matches
                FROM \(Record.fromClause)
                WHERE p.client_id = i.client_id AND cl.status = 'active'
                  AND (p.external_id = i.external_id OR (\(MatchSQL.candidate(Record.table))))
                ORDER BY p.external_id IS NULL, \(MatchSQL.order)
                LIMIT 2
                FOR UPDATE OF p
            ) f ON true
            """ }
        return PostgresQuery(sql: sql, bindings: rows.bindings + [PostgresBinding(Record.resource.rawValue)])
    }

    /// The rows of `lookUp`: one `Lookup` per save, in order, and the clock of the
    /// transaction, which the batch's writes will set.
    static func lookups(in rows: PostgresRows, count: Int) throws -> (lookups: [Lookup], clock: TransactionClock) {
        guard let first = rows.first else {
            throw PostgresError(kind: .client, message: "the lookup of a batch of \(count) saves returned no rows")
        }
        var lookups = [Lookup](repeating: Lookup(), count: count)
        var candidates = [[(record: Record, email: Bool, mobile: Bool)]](repeating: [], count: count)
        for row in rows {
            let index = try row.decode("n", as: Int.self)
            lookups[index].passwordHash = try row.decode("password_hash")
            lookups[index].clientStatus = try row.decode("client_status")
            lookups[index].clientOptions = try row.decode("client_options")
            lookups[index].clubEnabled = try row.decode("club_enabled")
            lookups[index].syncErrorsOpen = try row.decode("sync_errors_open")
            guard try row.decode("id", as: UUID?.self) != nil else { continue }
            let record = try Record(row: row)
            if try row.decode("candidate", as: Bool.self) {
                candidates[index].append((record, try row.decode("email_matches"), try row.decode("mobile_matches")))
            } else {
                lookups[index].current = record
            }
        }
        for index in lookups.indices where lookups[index].current == nil {
            lookups[index].match = adopted(candidates[index])
        }
        return (lookups, try TransactionClock(row: first))
    }

    /// Inserts new records; each row returned holds a record's `id` and what the
    /// database added (`Record.addedOnWrite`): read them with `written(_:_:at:)`
    /// and the ids given. nil when there are none. With `resolving`, the records'
    /// open sync errors (by external id) are resolved in the same statement.
    static func insertAll(
        _ inputs: [(clientId: String, input: Record.Input)], resolving: Bool
    ) throws -> (query: PostgresQuery, ids: [UUID])? {
        guard !inputs.isEmpty else { return nil }
        var ids: [UUID] = []
        var rows = BatchColumns(try columnNames(inputs[0].input))
        for (clientId, input) in inputs {
            let id = RecordID.make()
            ids.append(id)
            rows.append(try columnValues(input, clientId: clientId, id: id))
        }
        let sql = StatementCache.sql(Record.self, resolving ? "insertAll resolving" : "insertAll") {
            let columns = rows.names.joined(separator: ", ")
            let insert = "INSERT INTO \(Record.table) AS p (\(columns)) SELECT \(columns) FROM \(rows.rows(as: "v"))"
            return resolving ? written(by: insert, resolving: "$\(rows.names.count + 1)") : "\(insert) RETURNING \(returnedOnWrite)"
        }
        return (PostgresQuery(sql: sql, bindings: rows.bindings + (resolving ? [PostgresBinding(Record.resource.rawValue)] : [])), ids)
    }

    /// Writes new inputs over records, moving each one's version on; the rows
    /// returned are those of `insertAll` (read them with `written(_:_:at:)`). nil
    /// when there are none. With `resolving`, the records' open sync errors are
    /// resolved in the same statement.
    ///
    /// The records are also named by the arrays of client ids and ids as such
    /// (`= ANY($1)`, `= ANY($2)`): a join with the rows alone leaves the planner
    /// free to scan the whole table, which it did when the table had just grown.
    static func updateAll(
        _ changes: [(clientId: String, current: Record, input: Record.Input)], resolving: Bool
    ) throws -> (query: PostgresQuery, ids: [UUID])? {
        guard !changes.isEmpty else { return nil }
        var rows = BatchColumns(try columnNames(changes[0].input))
        for change in changes { rows.append(try columnValues(change.input, clientId: change.clientId, id: change.current.id)) }
        let sql = StatementCache.sql(Record.self, resolving ? "updateAll resolving" : "updateAll") {
            let assignments = rows.names.dropFirst(2).map { "\($0) = v.\($0)" }
            let update = """
                UPDATE \(Record.table) p SET \(assignments.joined(separator: ", ")), updated_at = now(), version = p.version + 1
                  FROM \(rows.rows(as: "v"))
                  WHERE p.client_id = ANY($1) AND p.id = ANY($2) AND p.client_id = v.client_id AND p.id = v.id
                """
            return resolving ? written(by: update, resolving: "$\(rows.names.count + 1)") : "\(update) RETURNING \(returnedOnWrite)"
        }
        let bindings = rows.bindings + (resolving ? [PostgresBinding(Record.resource.rawValue)] : [])
        return (PostgresQuery(sql: sql, bindings: bindings), changes.map { $0.current.id })
    }

    /// What a batch's write returns of each record: its id and what the database added.
    private static var returnedOnWrite: String { "p.id\(Record.addedOnWrite)" }

    /// `write` (an INSERT or UPDATE of the table aliased `p`) with the written
    /// records' open sync errors resolved in the same statement.
    private static func written(by write: String, resolving resource: String) -> String {
        """
        WITH p AS (\(write) RETURNING p.*), resolved AS (\(resolvingSyncErrors(of: "p", resource: resource, clientIds: "$1")))
        SELECT \(returnedOnWrite) FROM p
        """
    }

    /// Resolves the open sync errors of records a save left unchanged: the save
    /// succeeded, so what it was rejected for before is settled. nil when there are none.
    static func resolveSyncErrors(of records: [(clientId: String, record: Record)]) -> PostgresQuery? {
        guard !records.isEmpty else { return nil }
        var rows = BatchColumns(["client_id", "id", "external_id"])
        for (clientId, record) in records {
            rows.append([PostgresBinding(clientId), PostgresBinding(record.id), PostgresBinding(record.input.person.externalId)])
        }
        return PostgresQuery(
            sql: resolvingSyncErrors(of: rows.rows(as: "p"), resource: "$4", clientIds: "$1"),
            bindings: rows.bindings + [PostgresBinding(Record.resource.rawValue)])
    }

    /// `UPDATE sync_errors …` resolving the open errors of the records in `source`
    /// (aliased `p`, with `client_id`, `id`, `external_id`): those about the same
    /// record id, or the same external id. `clientIds` (a `text[]` placeholder)
    /// names the records' clients, so the open errors are found through their
    /// index whatever the planner guesses of `source`.
    static func resolvingSyncErrors(of source: String, resource: String, clientIds: String) -> String {
        """
        UPDATE sync_errors e SET resolved_at = now() FROM \(source)
        WHERE e.client_id = ANY(\(clientIds)) AND e.resolved_at IS NULL AND e.resource = \(resource)
          AND e.client_id = p.client_id
          AND (e.record_id = p.id OR (e.external_id IS NOT NULL AND e.external_id = p.external_id))
        """
    }

    /// The columns a save writes, `client_id` and `id` first.
    private static func columnNames(_ input: Record.Input) throws -> [String] {
        ["client_id", "id"] + PersonFields.columnNames + (try input.extraColumns()).map { $0.0 }
    }

    /// A save's row, in the order of `columnNames`.
    private static func columnValues(_ input: Record.Input, clientId: String, id: UUID) throws -> [PostgresBinding] {
        [PostgresBinding(clientId), PostgresBinding(id)] + input.person.bindings + (try input.extraColumns()).map { $0.1 }
    }

    /// The records `insertAll` or `updateAll` wrote, in the order of `writes`:
    /// each save's input under its id, over the record it replaced (nil: inserted),
    /// at the transaction's clock, with what the database added from `rows`.
    static func written(
        _ rows: PostgresRows, _ writes: [(id: UUID, input: Record.Input, current: Record?)], at clock: TransactionClock
    ) throws -> [Record] {
        var byId: [UUID: PostgresRow] = [:]
        byId.reserveCapacity(writes.count)
        for row in rows { byId[try row.decode("id", as: UUID.self)] = row }
        return try writes.map { write in
            guard let row = byId[write.id] else {
                throw PostgresError(kind: .client, message: "\(Record.noun) \(write.id.lowercasedString) vanished inside its own transaction")
            }
            return try Record(written: write.input, id: write.id, over: write.current, at: clock, row: row)
        }
    }
}

/// Statement texts built once per record type: they are long, the same every
/// time, and would otherwise be assembled for every batch.
enum StatementCache {
    private struct Key: Hashable {
        let type: ObjectIdentifier
        let statement: String
    }

    private static let texts = Mutex<[Key: String]>([:])

    static func sql(_ type: Any.Type, _ statement: String, build: () throws -> String) rethrows -> String {
        let key = Key(type: ObjectIdentifier(type), statement: statement)
        if let text = texts.withLock({ $0[key] }) { return text }
        let text = try build()
        texts.withLock { $0[key] = text }
        return text
    }
}

/// The rows of a batch statement as one array parameter per column, which the
/// statement reads back as rows with `unnest($1, $2, …)`. PostgreSQL takes arrays
/// of text values apart for much less than the same rows as a JSON array, which
/// it lexes twice (the `json` input check, then the rows) and looks up by key.
struct BatchColumns {
    let names: [String]
    private var types: [PostgresDataType]
    private var columns: [[String?]]

    init(_ names: [String]) {
        self.names = names
        types = [PostgresDataType](repeating: .unspecified, count: names.count)
        columns = [[String?]](repeating: [], count: names.count)
    }

    /// A row: one value per column, in the order of `names`.
    mutating func append(_ row: [PostgresBinding]) {
        precondition(row.count == names.count, "a batch row has one value per column")
        for (index, value) in row.enumerated() {
            types[index] = value.dataType
            columns[index].append(value.text)
        }
    }

    /// One array per column, each typed after its values.
    var bindings: [PostgresBinding] {
        zip(columns, types).enumerated().map { index, column in
            guard let binding = PostgresBinding.array(column.0, of: column.1) else {
                preconditionFailure("column \(names[index]) is of type \(column.1), which has no array type named here")
            }
            return binding
        }
    }

    /// Sent first in a transaction that runs statements reading `BatchColumns`. A
    /// custom plan sees the arrays' length, and its estimate of a few rows against
    /// the generic plan's ten makes PostgreSQL plan every execution afresh, which
    /// costs more than running it. The generic plans (the plans rows passed as JSON
    /// had) are good for any number of rows. `SET LOCAL`: for this transaction only.
    static let genericPlans: PostgresQuery = "SET LOCAL plan_cache_mode = force_generic_plan"

    /// `unnest($1, …) AS alias(names…)`: the rows, with their columns' names; the
    /// arrays are the statement's first parameters.
    func rows(as alias: String) -> String {
        let placeholders = names.indices.map { "$\($0 + 1)" }
        return "unnest(\(placeholders.joined(separator: ", "))) AS \(alias)(\(names.joined(separator: ", ")))"
    }
}
