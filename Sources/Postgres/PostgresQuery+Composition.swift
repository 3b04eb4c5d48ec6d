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
    ///
    /// Runs for every fragment of every composed statement (a batch's statements
    /// are a few kilobytes): one pass over the bytes, which are copied in runs and
    /// looked at closely only at a `$`.
    static func renumbered(_ sql: String, after offset: Int) -> String {
        guard offset > 0, sql.utf8.contains(UInt8(ascii: "$")) else { return sql }
        let bytes = Array(sql.utf8)
        var result = [UInt8]()
        result.reserveCapacity(bytes.count + 16)
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func isWord(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
        }
        var index = 0
        var copied = 0  // bytes[copied..<index] are still to be appended as they are
        var quote: UInt8? = nil
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                // Inside '…' or "…": a doubled quote is an escaped one and stays inside.
                if byte == open { quote = nil }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                quote = byte
                index += 1
                continue
            }
            guard byte == UInt8(ascii: "$"), index + 1 < bytes.count, isDigit(bytes[index + 1]),
                  index == 0 || !isWord(bytes[index - 1])
            else {
                index += 1
                continue
            }
            result.append(contentsOf: bytes[copied..<index])
            var end = index + 1
            var number = 0
            while end < bytes.count, isDigit(bytes[end]) {
                number = number * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                end += 1
            }
            result.append(UInt8(ascii: "$"))
            result.append(contentsOf: String(number + offset).utf8)
            index = end
            copied = end
        }
        result.append(contentsOf: bytes[copied...])
        return String(decoding: result, as: UTF8.self)
    }
}

/// Rows for one statement to read as a table: one array parameter per column,
/// which the statement takes apart with `unnest` (see `appendInterpolation(rows:as:)`).
/// The SQL text, and so its prepared statement, is the same for any number of
/// rows; PostgreSQL takes text arrays apart for much less than the same rows as
/// JSON, which it lexes twice and looks up by key.
///
/// Each column's array literal is written as its rows are appended, so a row's
/// values are copied once, straight into the bytes that are sent.
public struct PostgresColumns: Sendable {
    public let names: [String]
    private var types: [PostgresDataType]
    /// Each column's array literal so far: `{` and its elements, without the closing `}`.
    private var literals: [[UInt8]]
    /// How many rows have been appended.
    public private(set) var count = 0

    public init(_ names: [String]) {
        self.names = names
        types = [PostgresDataType](repeating: .unspecified, count: names.count)
        literals = [[UInt8]](repeating: [UInt8(ascii: "{")], count: names.count)
    }

    /// A row: one value per column, in the order of `names`.
    public mutating func append(_ row: [PostgresBinding]) {
        precondition(row.count == names.count, "a row has one value per column")
        for index in row.indices {
            let value = row[index]
            if value.dataType != .unspecified { types[index] = value.dataType }
            PostgresArrayLiteral.append(value.text, to: &literals[index], first: count == 0)
        }
        count += 1
    }

    /// The column `name` as one bound array (to name the rows' keys again, as in `= ANY(…)`).
    public func array(_ name: String) -> PostgresBinding {
        guard let index = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
        return binding(index)
    }

    private func binding(_ index: Int) -> PostgresBinding {
        guard let arrayType = types[index].arrayType else {
            preconditionFailure("column \(names[index]) is of type \(types[index]), which has no array type named here")
        }
        return PostgresBinding(text: PostgresArrayLiteral.closing(literals[index]), dataType: arrayType)
    }

    /// One array per column, each typed after its values.
    public var bindings: [PostgresBinding] {
        names.indices.map(binding)
    }
}
