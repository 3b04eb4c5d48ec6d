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
    @usableFromInline let storage: PostgresResultStorage
    @usableFromInline let row: Int

    /// The row's columns, in order.
    public var columns: [PostgresColumn] { storage.columns }

    /// Decodes the column at `index` (0-based).
    ///
    /// The decoding methods are `@inlinable` so that they are specialized for the
    /// caller's types: unspecialized, every value decoded looked up type metadata at
    /// run time (BENCHMARKS.md).
    @inlinable
    public func decode<Value: PostgresDecodable>(_ index: Int, as type: Value.Type = Value.self) throws(PostgresError) -> Value {
        guard storage.columns.indices.contains(index) else { throw noColumnError(at: index) }
        return try decodeValue(at: index, as: type)
    }

    /// Decodes the column named `name` (the first one, if several share the name).
    @inlinable
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

    @usableFromInline
    func value(at column: Int) -> String? {
        storage.values[row * storage.columns.count + column]
    }

    private var columnList: String {
        storage.columns.isEmpty ? "none" : storage.columns.map(\.name).joined(separator: ", ")
    }

    @usableFromInline
    func index(of name: String) throws(PostgresError) -> Int {
        guard let index = storage.columnIndexByName[name] else {
            throw PostgresError(
                kind: .decoding,
                message: "no column named \"\(name)\" in the result (columns: \(columnList))",
                column: name
            )
        }
        return index
    }

    @inlinable
    func decodeValue<Value: PostgresDecodable>(at index: Int, as type: Value.Type) throws(PostgresError) -> Value {
        guard let text = value(at: index) else {
            if let null = Value.postgresNullValue { return null }
            throw nullError(at: index, as: Value.self)
        }
        do {
            return try Value(postgresText: text, type: storage.columns[index].dataType)
        } catch {
            throw decodingError(at: index, as: Value.self, error)
        }
    }

    // The errors are built out of line, only when thrown.

    @usableFromInline
    func noColumnError(at index: Int) -> PostgresError {
        PostgresError(kind: .decoding, message: "no column at index \(index): the result has \(storage.columns.count) column(s) (\(columnList))")
    }

    @usableFromInline
    func nullError(at index: Int, as type: Any.Type) -> PostgresError {
        let column = storage.columns[index]
        return PostgresError(
            kind: .decoding,
            message: "\(place(index)) is NULL, but \(type) is not optional; decode it as Optional<\(type)> to accept NULL",
            column: column.name
        )
    }

    @usableFromInline
    func decodingError(at index: Int, as type: Any.Type, _ error: any Error) -> PostgresError {
        PostgresError(kind: .decoding, message: "cannot decode \(place(index)) as \(type): \(error)", column: storage.columns[index].name)
    }

    private func place(_ index: Int) -> String {
        let column = storage.columns[index]
        return "column \"\(column.name)\" (index \(index), PostgreSQL type \(column.dataType))"
    }
}
