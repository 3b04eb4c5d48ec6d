/// Statements put together from parts, every value still a bound parameter.
///
/// A part is itself a ``PostgresQuery`` (numbered `$1…` on its own); spliced into
/// another with `\(fragment)`, its placeholders are renumbered after the ones
/// already bound. Rows of many values go in as one array per column with
/// `\(rows: columns, as: "alias")`, read back by `unnest`. Nobody writes a `$n`.
extension PostgresQuery.StringInterpolation {
    /// Appends `fragment`'s SQL, its placeholders renumbered to follow those
    /// already bound, and binds its values.
    public mutating func appendInterpolation(_ fragment: PostgresQuery) {
        sql.append(PostgresQuery.renumbered(fragment.sql, after: bindings.count))
        bindings.append(contentsOf: fragment.bindings)
    }

    /// Appends `$n` and binds `binding` to it, as it is.
    public mutating func appendInterpolation(_ binding: PostgresBinding) {
        bindings.append(binding)
        sql.append("$\(bindings.count)")
    }

    /// Appends `unnest($k, $k+1, …) AS alias(name, …)`: the rows of `columns`, one
    /// bound array per column.
    public mutating func appendInterpolation(rows columns: PostgresColumns, as alias: String) {
        var placeholders: [String] = []
        for binding in columns.bindings {
            bindings.append(binding)
            placeholders.append("$\(bindings.count)")
        }
        sql.append("unnest(\(placeholders.joined(separator: ", "))) AS \(alias)(\(columns.names.joined(separator: ", ")))")
    }
}

extension PostgresQuery {
    /// `sql` with every placeholder `$n` outside quotes turned into `$(n + offset)`.
    static func renumbered(_ sql: String, after offset: Int) -> String {
        guard offset > 0, sql.utf8.contains(UInt8(ascii: "$")) else { return sql }
        var result = [UInt8]()
        result.reserveCapacity(sql.utf8.count + 16)
        let bytes = Array(sql.utf8)
        var index = 0
        var quote: UInt8? = nil
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                // Inside '…' or "…": a doubled quote is an escaped one and stays inside.
                if byte == open { quote = nil }
                result.append(byte)
                index += 1
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
                result.append(byte)
                index += 1
                continue
            }
            let isDigit = { (i: Int) in i < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) }
            let previousIsWord = result.last.map { $0 == UInt8(ascii: "_") || ($0 | 0x20 >= UInt8(ascii: "a") && $0 | 0x20 <= UInt8(ascii: "z")) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false
            if byte == UInt8(ascii: "$"), !previousIsWord, isDigit(index + 1) {
                var end = index + 1
                var number = 0
                while isDigit(end) {
                    number = number * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                    end += 1
                }
                result.append(UInt8(ascii: "$"))
                result.append(contentsOf: Array(String(number + offset).utf8))
                index = end
                continue
            }
            result.append(byte)
            index += 1
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// Rows for one statement to read as a table: one array parameter per column,
/// which the statement takes apart with `unnest` (see `appendInterpolation(rows:as:)`).
/// The SQL text, and so its prepared statement, is the same for any number of
/// rows; PostgreSQL takes text arrays apart for much less than the same rows as
/// JSON, which it lexes twice and looks up by key.
public struct PostgresColumns: Sendable {
    public let names: [String]
    private var types: [PostgresDataType]
    private var columns: [[String?]]

    public init(_ names: [String]) {
        self.names = names
        types = [PostgresDataType](repeating: .unspecified, count: names.count)
        columns = [[String?]](repeating: [], count: names.count)
    }

    /// How many rows have been appended.
    public var count: Int { columns.first?.count ?? 0 }

    /// A row: one value per column, in the order of `names`.
    public mutating func append(_ row: [PostgresBinding]) {
        precondition(row.count == names.count, "a row has one value per column")
        for (index, value) in row.enumerated() {
            if value.dataType != .unspecified { types[index] = value.dataType }
            columns[index].append(value.text)
        }
    }

    /// The column `name` as one bound array (to name the rows' keys again, as in `= ANY(…)`).
    public func array(_ name: String) -> PostgresBinding {
        guard let index = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
        return Self.array(columns[index], of: types[index], name: name)
    }

    private static func array(_ column: [String?], of type: PostgresDataType, name: String) -> PostgresBinding {
        guard let binding = PostgresBinding.array(column, of: type) else {
            preconditionFailure("column \(name) is of type \(type), which has no array type named here")
        }
        return binding
    }

    /// One array per column, each typed after its values.
    var bindings: [PostgresBinding] {
        names.indices.map { Self.array(columns[$0], of: types[$0], name: names[$0]) }
    }
}
