/// One row of a ``PostgresRows`` result. Decode its columns by index or by name:
///
/// ```swift
/// let id = try row.decode(0, as: Int.self)
/// let email = try row.decode("email", as: String?.self)     // NULL becomes nil
/// let (id, email) = try row.decode((Int, String).self)       // columns in order
/// ```
///
/// Every failure is a ``PostgresError`` of kind `.decoding` whose message names the
/// column, its PostgreSQL type and the requested Swift type.
public struct PostgresRow: Sendable {
    let storage: PostgresResultStorage
    let row: Int

    /// The row's columns, in order.
    public var columns: [PostgresColumn] { storage.columns }

    /// Decodes the column at `index` (0-based).
    public func decode<Value: PostgresDecodable>(_ index: Int, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        guard storage.columns.indices.contains(index) else {
            throw PostgresError(
                kind: .decoding,
                message: "no column at index \(index): the result has \(storage.columns.count) column(s) (\(columnList))"
            )
        }
        return try decodeValue(at: index, as: type)
    }

    /// Decodes the column named `name` (the first one, if several share the name).
    public func decode<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        try decodeValue(at: index(of: name), as: type)
    }

    /// Decodes the first columns, in order, as a tuple: `row.decode((Int, String?).self)`.
    public func decode<each Value: PostgresDecodable>(_ types: (repeat each Value).Type) throws(PostgresError) -> (repeat each Value) {
        var index = 0
        func next<Next: PostgresDecodable>(_ type: Next.Type) throws(PostgresError) -> Next {
            defer { index += 1 }
            return try decode(index, as: type)
        }
        return (repeat try next((each Value).self))
    }

    /// True when the column at `index` is SQL NULL.
    public func isNull(_ index: Int) throws(PostgresError) -> Bool {
        guard storage.columns.indices.contains(index) else {
            throw PostgresError(kind: .decoding, message: "no column at index \(index) (\(columnList))")
        }
        return value(at: index) == nil
    }

    /// True when the column named `name` is SQL NULL.
    public func isNull(_ name: String) throws(PostgresError) -> Bool {
        value(at: try index(of: name)) == nil
    }

    private func value(at column: Int) -> String? {
        storage.values[row * storage.columns.count + column]
    }

    private var columnList: String {
        storage.columns.isEmpty ? "none" : storage.columns.map(\.name).joined(separator: ", ")
    }

    private func index(of name: String) throws(PostgresError) -> Int {
        guard let index = storage.columnIndexByName[name] else {
            throw PostgresError(
                kind: .decoding,
                message: "no column named \"\(name)\" in the result (columns: \(columnList))",
                column: name
            )
        }
        return index
    }

    private func decodeValue<Value: PostgresDecodable>(at index: Int, as type: Value.Type) throws(PostgresError) -> Value {
        let column = storage.columns[index]
        // Only built for an error: decoding runs for every column of every row.
        var place: String { "column \"\(column.name)\" (index \(index), PostgreSQL type \(column.dataType))" }
        guard let text = value(at: index) else {
            if let null = Value.postgresNullValue { return null }
            throw PostgresError(
                kind: .decoding,
                message: "\(place) is NULL, but \(Value.self) is not optional; decode it as Optional<\(Value.self)> to accept NULL",
                column: column.name
            )
        }
        do {
            return try Value(postgresText: text, type: column.dataType)
        } catch {
            throw PostgresError(
                kind: .decoding,
                message: "cannot decode \(place) as \(Value.self): \(error)",
                column: column.name
            )
        }
    }
}
