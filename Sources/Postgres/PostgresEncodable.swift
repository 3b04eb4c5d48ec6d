/// A Swift value that can be sent to PostgreSQL as a bind parameter.
///
/// Parameters travel in PostgreSQL's *text* format: `postgresText` is exactly what
/// the type's SQL input function accepts (`42`, `t`, `2024-05-01T10:00:00.000000Z`).
/// `postgresDataType` is sent alongside as the parameter's type OID, so the server
/// does not have to infer it.
///
/// Which OIDs are sent, and why (so statements need no casts for these types):
///
/// | Swift | PostgreSQL |
/// |---|---|
/// | `String` | `text` (compares with `varchar`/`char` columns; cast `\(value)::my_enum` for enum columns) |
/// | `Int`, `Int64` | `int8` (compares with and assigns to `int2`/`int4` columns) |
/// | `Int32` / `Int16` | `int4` / `int2` |
/// | `Bool` | `bool` |
/// | `Double` | `float8` |
/// | `Date` | `timestamptz` |
/// | `PostgresDate` | `date` |
/// | `UUID` | `uuid` |
/// | `PostgresJSON` | `jsonb` |
/// | `[T]` | the array type of `T` (`text[]`, `int8[]`…) |
/// | `T?` | as `T`; `nil` is SQL NULL |
///
/// A type whose `postgresDataType` is `.unspecified` (OID 0) lets the server infer the
/// type from context, which is what a custom enum mapped to a PostgreSQL enum wants.
public protocol PostgresEncodable {
    /// The type OID sent with the parameter.
    static var postgresDataType: PostgresDataType { get }
    /// The value in PostgreSQL's text input format; `nil` sends SQL NULL.
    var postgresText: String? { get }
}

/// A Swift value that can be created from a result column.
///
/// Results arrive in PostgreSQL's text format, under the session settings every
/// connection of this module sets (`DateStyle=ISO, YMD`, `TimeZone=UTC`,
/// `client_encoding=UTF8`).
public protocol PostgresDecodable {
    /// Creates a value from the text form of a non-NULL column (or array element).
    ///
    /// - Parameters:
    ///   - text: the server's text output for the value.
    ///   - type: the column's type as reported by the server, or `.unspecified`
    ///     when it is not known (elements of arrays of non-built-in types).
    ///     Implementations should reject types they cannot represent faithfully,
    ///     throwing ``PostgresDecodingFailure``.
    init(postgresText text: String, type: PostgresDataType) throws

    /// The value that SQL NULL decodes to, or `nil` when NULL is not acceptable
    /// (the default). `Optional` returns `.some(nil)`: NULL decodes to `nil`.
    static var postgresNullValue: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNullValue: Self? { nil }
}

/// A type that is both ``PostgresEncodable`` and ``PostgresDecodable``.
public typealias PostgresCodable = PostgresDecodable & PostgresEncodable

/// Marks scalar types that may be the elements of a one-dimensional PostgreSQL
/// array (`[String]`, `[Int?]`). Arrays themselves are not elements: multidimensional
/// arrays are not supported.
public protocol PostgresArrayElement {}

/// Why a value could not be decoded. Thrown by ``PostgresDecodable`` conformances;
/// ``PostgresRow`` turns it into a ``PostgresError`` of kind `.decoding` that names the
/// column and both types.
public struct PostgresDecodingFailure: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the value, without the value itself (it may be secret).
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }

    /// Throws unless `type` is one of `accepted` or `.unspecified`.
    public static func require(_ type: PostgresDataType, isOneOf accepted: Set<PostgresDataType>) throws(PostgresDecodingFailure) {
        guard type == .unspecified || accepted.contains(type) else {
            let names = accepted.map(\.description).sorted().joined(separator: ", ")
            throw PostgresDecodingFailure("its PostgreSQL type is \(type), expected one of: \(names)")
        }
    }
}

// MARK: - Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }

    public var postgresText: String? {
        switch self {
        case .none: nil
        case .some(let value): value.postgresText
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = .some(try Wrapped(postgresText: text, type: type))
    }

    public static var postgresNullValue: Wrapped?? { .some(.none) }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {}
