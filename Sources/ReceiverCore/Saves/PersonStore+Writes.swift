import Foundation
import Postgres

/// The one place where prospects and members are written: every insert and
/// update of a record, whether a batch of saves, a lone save, a create, a merge
/// patch or a conversion, is one of these two statements. Each handles any
/// number of records at once, its rows passed as one array per column
/// (`PostgresColumns`), so its text and prepared statement are the same whatever
/// the count.
extension PersonStore {
    /// A record to write: `input` under `id` for `clientId`, over `current` (nil:
    /// inserted). `linked` is the record a new one comes from, written to
    /// `Record.linkColumn` (a member's prospect).
    package struct Write {
        var clientId: String
        var id: UUID
        var input: Record.Input
        var current: Record?
        var linked: UUID? = nil
    }

    /// Inserts the records of `writes` (none may have a `current`). Read the rows
    /// with `written(_:_:)`. With `resolving`, the records' open sync errors (by
    /// external id) are resolved in the same statement. nil when there are none.
    package static func insertAll(_ writes: [Write], resolving: Bool) throws -> PostgresQuery? {
        guard let first = writes.first else { return nil }
        let linkColumns = Record.linkColumn.map { [$0] } ?? []
        var rows = PostgresColumns(try columnNames(first.input) + linkColumns)
        for write in writes {
            rows.append(try columnValues(write) + (Record.linkColumn == nil ? [] : [PostgresBinding(write.linked)]))
        }
        let columns = rows.names.joined(separator: ", ")
        let insert: PostgresQuery = """
            INSERT INTO \(unescaped: Record.table) AS p (\(unescaped: columns)) SELECT \(unescaped: columns) FROM \(rows: rows, as: "v")
            """
        return returning(insert, resolving: resolving, clientIds: rows.array("client_id"))
    }

    /// Writes new inputs over the records of `writes` (each with its `current`),
    /// moving each one's version on. Rows and `resolving` as `insertAll`.
    ///
    /// The records are also named by the arrays of client ids and ids as such
    /// (`= ANY(…)`): a join with the rows alone leaves the planner free to scan
    /// the whole table, which it did when the table had just grown.
    package static func updateAll(_ writes: [Write], resolving: Bool) throws -> PostgresQuery? {
        guard let first = writes.first else { return nil }
        var rows = PostgresColumns(try columnNames(first.input))
        for write in writes { rows.append(try columnValues(write)) }
        let assignments = rows.names.dropFirst(2).map { "\($0) = v.\($0)" }.joined(separator: ", ")
        let update: PostgresQuery = """
            UPDATE \(unescaped: Record.table) p SET \(unescaped: assignments), updated_at = now(), version = p.version + 1
              FROM \(rows: rows, as: "v")
              WHERE p.client_id = ANY(\(rows.array("client_id"))) AND p.id = ANY(\(rows.array("id")))
                AND p.client_id = v.client_id AND p.id = v.id
            """
        return returning(update, resolving: resolving, clientIds: rows.array("client_id"))
    }

    /// `write` (an INSERT or UPDATE of the table aliased `p`) returning, for each
    /// record, its id, what the database added and the transaction's clock; with
    /// the written records' open sync errors resolved in the same statement.
    private static func returning(_ write: PostgresQuery, resolving: Bool, clientIds: PostgresBinding) -> PostgresQuery {
        guard resolving else { return "\(write) RETURNING \(unescaped: returnedOnWrite)" }
        return """
            WITH p AS (\(write) RETURNING p.*),
                 resolved AS (\(SyncErrors.resolving(recordsIn: "p", resource: Record.resource, clientIds: clientIds)))
            SELECT \(unescaped: returnedOnWrite) FROM p
            """
    }

    /// What a write returns of each record: its id, what the database added, and the clock.
    private static var returnedOnWrite: String { "p.id\(Record.addedOnWrite), \(TransactionClock.selectList)" }

    /// The columns a write sets, `client_id` and `id` first.
    private static func columnNames(_ input: Record.Input) throws -> [String] {
        ["client_id", "id"] + PersonFields.columnNames + (try input.extraColumns()).map { $0.0 }
    }

    /// A write's row, in the order of `columnNames`.
    private static func columnValues(_ write: Write) throws -> [PostgresBinding] {
        [PostgresBinding(write.clientId), PostgresBinding(write.id)] + write.input.person.bindings + (try write.input.extraColumns()).map { $0.1 }
    }

    /// The records `insertAll` or `updateAll` wrote, in the order of `writes`:
    /// each write's input under its id, over the record it replaced, at the
    /// transaction's clock, with what the database added from `rows`.
    package static func written(_ rows: PostgresRows, _ writes: [Write]) throws -> [Record] {
        var byId: [UUID: PostgresRow] = [:]
        byId.reserveCapacity(writes.count)
        for row in rows { byId[try row.decode("id", as: UUID.self)] = row }
        return try writes.map { write in
            guard let row = byId[write.id] else {
                throw PostgresError(kind: .client, message: "\(Record.noun) \(write.id.lowercasedString) vanished inside its own transaction")
            }
            return try Record(written: write.input, id: write.id, over: write.current, linked: write.linked, at: try TransactionClock(row: row), row: row)
        }
    }

    /// Writes one record alone (a create, a merge patch, a conversion), resolving
    /// its open sync errors unless told not to, and returns it as stored.
    package static func write(_ write: Write, resolving: Bool = true, on connection: PostgresConnection) throws -> Record {
        let query = write.current == nil ? try insertAll([write], resolving: resolving) : try updateAll([write], resolving: resolving)
        return try written(try connection.query(query!), [write])[0]
    }
}
