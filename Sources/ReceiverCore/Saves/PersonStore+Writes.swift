import Foundation
import Postgres

/// The one place where prospects and members are written: every insert and
/// update of a record, whether a batch of saves, a lone save, a create, a merge
/// patch or a conversion, is one of these two statements, and each records the
/// event of every record it writes (`EventLog`) in the same statement. Each
/// handles any number of records at once, its rows passed as one array per
/// column (`PostgresColumns`), so its text and prepared statement are the same
/// whatever the count.
extension PersonStore {
    /// A record to write: `input` for `clientId`, over `current` (nil: inserted),
    /// and the record as it will be stored, which its event carries.
    struct Write {
        var clientId: String
        var input: Record.Input
        var current: Record?
        /// The record a new one comes from, written to `Record.linkColumn` (a member's prospect).
        var linked: UUID?
        var record: Record
        /// `record` as JSON, serialized once: its event's data and the save's answer.
        var json: [UInt8]

        /// `staffOwnerId` is what the database finds for the input's staff owner
        /// email, and `clock` the transaction's: the record is then exactly what
        /// the database will hold (and what a `GET` returns).
        init(clientId: String, id: UUID, input: Record.Input, current: Record?, linked: UUID? = nil,
             at clock: TransactionClock, staffOwnerId: UUID?) throws {
            (self.clientId, self.input, self.current, self.linked) = (clientId, input, current, linked)
            record = try Record(written: input, id: id, over: current, linked: linked, at: clock, staffOwnerId: staffOwnerId)
            json = JSONWriter.serialize(.object(record.json))
        }

        var event: NewEvent {
            NewEvent(type: "\(Record.eventPrefix).\(current == nil ? "created" : "updated")", clientId: clientId,
                     clubId: input.person.clubId, recordId: record.id, version: record.version, serializedData: json)
        }
    }

    /// Inserts the records of `writes` (none may have a `current`), with their
    /// events. With `resolving`, the records' open sync errors (by external id)
    /// are resolved in the same statement. nil when there are none.
    static func insertAll(_ writes: [Write], resolving: Bool) throws -> PostgresQuery? {
        guard let first = writes.first else { return nil }
        let linkColumns = Record.linkColumn.map { [$0] } ?? []
        var rows = PostgresColumns(try columnNames(first.input) + linkColumns)
        for write in writes {
            rows.append(try columnValues(write) + (Record.linkColumn == nil ? [] : [PostgresBinding(write.linked)]))
        }
        let events = EventLog.rows(writes.map { $0.event })
        let clientIds = rows.array("client_id")
        let shape = "\(Record.table).insertAll.\(rows.names.count).\(resolving)"
        return StatementTexts.shared.query(shape, bindings: rows.bindings + events.bindings + resolution(resolving, clientIds)) {
            let columns = rows.names.joined(separator: ", ")
            let insert: PostgresQuery = """
                INSERT INTO \(unescaped: Record.table) AS p (\(unescaped: columns)) SELECT \(unescaped: columns) FROM \(rows: rows, as: "v")
                """
            return recording(insert, events: events, resolving: resolving, clientIds: clientIds)
        }
    }

    /// Writes new inputs over the records of `writes` (each with its `current`),
    /// moving each one's version on, with their events. `resolving` as `insertAll`.
    ///
    /// The records are also named by the arrays of client ids and ids as such
    /// (`= ANY(…)`): a join with the rows alone leaves the planner free to scan
    /// the whole table, which it did when the table had just grown.
    static func updateAll(_ writes: [Write], resolving: Bool) throws -> PostgresQuery? {
        guard let first = writes.first else { return nil }
        var rows = PostgresColumns(try columnNames(first.input))
        for write in writes { rows.append(try columnValues(write)) }
        let events = EventLog.rows(writes.map { $0.event })
        let clientIds = rows.array("client_id")  // encoded once, bound where the statement names the clients
        let ids = rows.array("id")
        let shape = "\(Record.table).updateAll.\(rows.names.count).\(resolving)"
        let bindings = rows.bindings + [clientIds, ids] + events.bindings + resolution(resolving, clientIds)
        return StatementTexts.shared.query(shape, bindings: bindings) {
            let assignments = rows.names.dropFirst(2).map { "\($0) = v.\($0)" }.joined(separator: ", ")
            let update: PostgresQuery = """
                UPDATE \(unescaped: Record.table) p
                  SET \(unescaped: assignments), updated_at = now(), version = p.version + 1, event_xid = \(unescaped: EventLog.nextPosition(of: "p"))
                  FROM \(rows: rows, as: "v")
                  WHERE p.client_id = ANY(\(clientIds)) AND p.id = ANY(\(ids))
                    AND p.client_id = v.client_id AND p.id = v.id
                """
            return recording(update, events: events, resolving: resolving, clientIds: clientIds)
        }
    }

    /// `write` (an INSERT or UPDATE of the table aliased `p`), the events of its
    /// records, and with `resolving` their open sync errors resolved: one
    /// statement, returning how many records it wrote. It binds the write's
    /// values, then the events', then `resolution(resolving, clientIds)`.
    private static func recording(_ write: PostgresQuery, events: PostgresColumns, resolving: Bool, clientIds: PostgresBinding) -> PostgresQuery {
        let resolution: PostgresQuery = resolving
            ? ", resolved AS (\(SyncErrors.resolving(recordsIn: "p", resource: Record.resource, clientIds: clientIds)))" : ""
        return """
            WITH p AS (\(write) RETURNING p.client_id, p.id, p.external_id, p.event_xid),
                 recorded AS (\(EventLog.inserting(rowsOf: events, from: "p w")))\(resolution)
            SELECT count(*) AS written FROM p
            """
    }

    /// What the sync errors' resolution in `recording` binds.
    private static func resolution(_ resolving: Bool, _ clientIds: PostgresBinding) -> [PostgresBinding] {
        resolving ? [clientIds, PostgresBinding(Record.resource.rawValue)] : []
    }

    /// The columns a write sets, `client_id` and `id` first.
    private static func columnNames(_ input: Record.Input) throws -> [String] {
        ["client_id", "id"] + PersonFields.columnNames + (try input.extraColumns()).map { $0.0 }
    }

    /// A write's row, in the order of `columnNames`.
    private static func columnValues(_ write: Write) throws -> [PostgresBinding] {
        [PostgresBinding(write.clientId), PostgresBinding(write.record.id)] + write.input.person.bindings + (try write.input.extraColumns()).map { $0.1 }
    }

    /// Checks the rows of `insertAll` or `updateAll`: every record was written.
    static func check(_ rows: PostgresRows, wrote writes: [Write]) throws {
        let written = try rows.first?.decode("written", as: Int.self) ?? 0
        guard written == writes.count else {
            throw PostgresError(kind: .client, message: "\(writes.count) \(Record.noun)s to write, \(written) written inside the transaction")
        }
    }

    /// Writes one record alone (a create, a merge patch, a conversion) in the open
    /// transaction, with its event, resolving its open sync errors unless told
    /// not to, and returns it as stored.
    static func write(
        clientId: String, id: UUID, input: Record.Input, current: Record?, linked: UUID? = nil, resolving: Bool = true,
        on connection: PostgresConnection
    ) throws -> Record {
        let (clock, staffOwnerId) = try TransactionClock.read(clientId: clientId, staffOwnerEmail: input.staffOwnerEmail, on: connection)
        let write = try Write(clientId: clientId, id: id, input: input, current: current, linked: linked, at: clock, staffOwnerId: staffOwnerId)
        let query = current == nil ? try insertAll([write], resolving: resolving) : try updateAll([write], resolving: resolving)
        try check(try connection.query(query!), wrote: [write])
        return write.record
    }
}
