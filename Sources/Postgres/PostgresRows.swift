/// A result column: its name and the type the server reported.
public struct PostgresColumn: Sendable, Hashable {
    /// The column's name in the result (its alias, if the query gave one).
    public let name: String
    /// The column's type OID as reported by the server.
    public let dataType: PostgresDataType
}

/// The complete result of a statement, read into memory before the call returned
/// (the connection is free again as soon as you have it).
///
/// A random-access collection of ``PostgresRow``:
///
/// ```swift
/// for row in try conn.query("SELECT id, email FROM staff") {
///     let id = try row.decode("id", as: Int.self)
/// }
/// ```
public struct PostgresRows: RandomAccessCollection, Sendable {
    let storage: PostgresResultStorage
    /// The statement's command tag (`SELECT 3`, `INSERT 0 1`, `UPDATE 2`).
    public let commandTag: String
    /// Rows inserted, updated, deleted, selected, moved or copied, per the command tag;
    /// 0 for statements without a count.
    public let affectedRowCount: Int

    init(storage: PostgresResultStorage, commandTag: String, affectedRowCount: Int) {
        self.storage = storage
        self.commandTag = commandTag
        self.affectedRowCount = affectedRowCount
    }

    /// The result's columns, in order.
    public var columns: [PostgresColumn] { storage.columns }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.rowCount }

    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row index \(position) out of range 0..<\(count)")
        return PostgresRow(storage: storage, row: position)
    }
}

/// The values of a result, shared by the rows that point into it.
@usableFromInline
final class PostgresResultStorage: Sendable {
    @usableFromInline let columns: [PostgresColumn]
    let rowCount: Int
    /// Row-major: row r, column c is at `r * columns.count + c`. nil is SQL NULL.
    @usableFromInline let values: [String?]
    /// The first column with each name (SQL allows duplicates; the first wins, as in psql).
    @usableFromInline let columnIndexByName: [String: Int]

    init(columns: [PostgresColumn], rowCount: Int, values: [String?]) {
        self.columns = columns
        self.rowCount = rowCount
        self.values = values
        var byName: [String: Int] = [:]
        byName.reserveCapacity(columns.count)
        for (index, column) in columns.enumerated() where byName[column.name] == nil {
            byName[column.name] = index
        }
        self.columnIndexByName = byName
    }
}
