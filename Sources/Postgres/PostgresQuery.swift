/// A SQL statement with its bind parameters.
///
/// Written as a string literal, every interpolated value becomes a `$n` parameter,
/// so values never become SQL text and injection is impossible by construction:
///
/// ```swift
/// let rows = try conn.query("SELECT * FROM staff WHERE id = \(id) AND email = \(email)")
/// // sql: "SELECT * FROM staff WHERE id = $1 AND email = $2", two bindings
/// ```
///
/// SQL that must be text (a table name chosen at run time) is spelled out at the
/// interpolation so it stands out in review: `\(identifier: name)` quotes an
/// identifier; `\(unescaped: fragment)` inserts trusted SQL as is.
///
/// `description` shows the SQL and the number of bindings, never their values.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text, with `$1`, `$2`… where the bindings go.
    public var sql: String
    /// The parameter values, `bindings[0]` being `$1`.
    public var bindings: [PostgresBinding]

    /// A statement from explicit SQL and bindings, for SQL assembled at run time.
    /// The caller is responsible for `sql` containing no untrusted text.
    public init(sql: String, bindings: [PostgresBinding] = []) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: String) {
        self.init(sql: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(sql: stringInterpolation.sql, bindings: stringInterpolation.bindings)
    }

    public var description: String {
        bindings.isEmpty ? sql : "\(sql) [\(bindings.count) binding\(bindings.count == 1 ? "" : "s")]"
    }

    /// Builds a ``PostgresQuery`` from a string literal with interpolations.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var bindings: [PostgresBinding] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql.append(literal)
        }

        /// Appends `$n` and binds `value` to it.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            bindings.append(PostgresBinding(value))
            appendPlaceholder()
        }

        /// Appends `$n` and binds `value` to it; nil binds SQL NULL. (A separate overload
        /// so that interpolating an optional does not trigger the compiler's
        /// "debug description for an optional value" warning meant for plain strings.)
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(PostgresBinding(value))
            appendPlaceholder()
        }

        /// `$n` for the binding just added (built on every query, so without interpolation).
        private mutating func appendPlaceholder() {
            sql.unicodeScalars.append("$")
            sql.append(String(bindings.count))
        }

        /// Appends `name` as a double-quoted SQL identifier (`"my ""odd"" table"`),
        /// safe for any text. Quoting makes the name case-sensitive, as in SQL.
        public mutating func appendInterpolation(identifier name: String) {
            sql.append(PostgresQuery.quoteIdentifier(name))
        }

        /// Appends `fragment` to the SQL text unchanged. Only for trusted SQL written
        /// by the program (never for values that came from outside).
        public mutating func appendInterpolation(unescaped fragment: String) {
            sql.append(fragment)
        }
    }

    /// Quotes `name` as a SQL identifier: wraps it in double quotes and doubles any
    /// double quote inside (the SQL standard rule, which is all PostgreSQL needs for
    /// UTF-8 text; `PQescapeIdentifier` does the same plus multibyte checks that
    /// UTF-8 does not need).
    public static func quoteIdentifier(_ name: String) -> String {
        // By Unicode scalar, not Character: a quote followed by a combining mark is one
        // Character but still a quote byte to the server.
        var quoted = "\""
        for scalar in name.unicodeScalars {
            if scalar == "\"" { quoted.unicodeScalars.append("\"") }
            quoted.unicodeScalars.append(scalar)
        }
        quoted.unicodeScalars.append("\"")
        return quoted
    }
}

/// One bind parameter: its text form (nil for SQL NULL) and its type OID.
public struct PostgresBinding: Sendable, Hashable {
    /// The value in PostgreSQL's text input format; nil is SQL NULL.
    public var text: String?
    /// The type sent with the parameter; `.unspecified` lets the server infer it.
    public var dataType: PostgresDataType

    /// The binding for `value`, with its type.
    public init<Value: PostgresEncodable>(_ value: Value) {
        self.text = value.postgresText
        self.dataType = Value.postgresDataType
    }

    /// A binding from raw text and a type.
    public init(text: String?, dataType: PostgresDataType) {
        self.text = text
        self.dataType = dataType
    }
}
