/// A PostgreSQL data type, identified by its OID (`pg_type.oid`).
///
/// Used in two directions: the type sent with each bind parameter (so the server does
/// not have to guess it), and the type the server reports for each result column (so
/// decoding can refuse, for example, an `int4` column read as `Bool`).
/// The constants are the built-in types, whose OIDs are fixed in every PostgreSQL.
/// Types created by `CREATE TYPE` (enums, domains) have per-database OIDs and are
/// not named here.
public struct PostgresDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The type's OID.
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// OID 0. As a parameter type it lets the server infer the type from the
    /// statement; as a column type in decoding it means "not known here", and
    /// decoders skip their type check.
    public static let unspecified = PostgresDataType(0)

    // Built-in scalar types (OIDs from pg_type.dat, identical in every installation).
    public static let bool = PostgresDataType(16)
    public static let bytea = PostgresDataType(17)
    public static let char = PostgresDataType(18)
    public static let name = PostgresDataType(19)
    public static let int8 = PostgresDataType(20)
    public static let int2 = PostgresDataType(21)
    public static let int4 = PostgresDataType(23)
    public static let text = PostgresDataType(25)
    public static let oid = PostgresDataType(26)
    public static let json = PostgresDataType(114)
    public static let float4 = PostgresDataType(700)
    public static let float8 = PostgresDataType(701)
    public static let unknown = PostgresDataType(705)
    public static let bpchar = PostgresDataType(1042)
    public static let varchar = PostgresDataType(1043)
    public static let date = PostgresDataType(1082)
    public static let time = PostgresDataType(1083)
    public static let timestamp = PostgresDataType(1114)
    public static let timestamptz = PostgresDataType(1184)
    public static let interval = PostgresDataType(1186)
    public static let numeric = PostgresDataType(1700)
    public static let uuid = PostgresDataType(2950)
    public static let jsonb = PostgresDataType(3802)

    // One-dimensional arrays of the scalar types above.
    public static let jsonArray = PostgresDataType(199)
    public static let boolArray = PostgresDataType(1000)
    public static let byteaArray = PostgresDataType(1001)
    public static let nameArray = PostgresDataType(1003)
    public static let int2Array = PostgresDataType(1005)
    public static let int4Array = PostgresDataType(1007)
    public static let textArray = PostgresDataType(1009)
    public static let bpcharArray = PostgresDataType(1014)
    public static let varcharArray = PostgresDataType(1015)
    public static let int8Array = PostgresDataType(1016)
    public static let float4Array = PostgresDataType(1021)
    public static let float8Array = PostgresDataType(1022)
    public static let oidArray = PostgresDataType(1028)
    public static let timestampArray = PostgresDataType(1115)
    public static let dateArray = PostgresDataType(1182)
    public static let timeArray = PostgresDataType(1183)
    public static let timestamptzArray = PostgresDataType(1185)
    public static let intervalArray = PostgresDataType(1187)
    public static let numericArray = PostgresDataType(1231)
    public static let uuidArray = PostgresDataType(2951)
    public static let jsonbArray = PostgresDataType(3807)

    /// The SQL name (`int4`, `text[]`) for the types named here, nil for others.
    public var name: String? {
        Self.catalog[self]?.name
    }

    /// For an array type named here, its element type (`int8` for `int8[]`).
    public var elementType: PostgresDataType? {
        Self.catalog[self]?.element
    }

    /// For a scalar type named here, the type of one-dimensional arrays of it.
    public var arrayType: PostgresDataType? {
        Self.arrayTypes[self]
    }

    /// True for the built-in types named here.
    public var isKnown: Bool {
        Self.catalog[self] != nil
    }

    /// `int4`, or `oid 16412` for types not named here.
    public var description: String {
        name ?? "oid \(rawValue)"
    }

    private static let catalog: [PostgresDataType: (name: String, element: PostgresDataType?)] = [
        .bool: ("bool", nil), .bytea: ("bytea", nil), .char: ("char", nil), .name: ("name", nil),
        .int8: ("int8", nil), .int2: ("int2", nil), .int4: ("int4", nil), .text: ("text", nil),
        .oid: ("oid", nil), .json: ("json", nil), .float4: ("float4", nil), .float8: ("float8", nil),
        .unknown: ("unknown", nil), .bpchar: ("bpchar", nil), .varchar: ("varchar", nil),
        .date: ("date", nil), .time: ("time", nil), .timestamp: ("timestamp", nil),
        .timestamptz: ("timestamptz", nil), .interval: ("interval", nil), .numeric: ("numeric", nil),
        .uuid: ("uuid", nil), .jsonb: ("jsonb", nil),
        .jsonArray: ("json[]", .json), .boolArray: ("bool[]", .bool), .byteaArray: ("bytea[]", .bytea),
        .nameArray: ("name[]", .name), .int2Array: ("int2[]", .int2), .int4Array: ("int4[]", .int4),
        .textArray: ("text[]", .text), .bpcharArray: ("bpchar[]", .bpchar),
        .varcharArray: ("varchar[]", .varchar), .int8Array: ("int8[]", .int8),
        .float4Array: ("float4[]", .float4), .float8Array: ("float8[]", .float8),
        .oidArray: ("oid[]", .oid), .timestampArray: ("timestamp[]", .timestamp),
        .dateArray: ("date[]", .date), .timeArray: ("time[]", .time),
        .timestamptzArray: ("timestamptz[]", .timestamptz), .intervalArray: ("interval[]", .interval),
        .numericArray: ("numeric[]", .numeric), .uuidArray: ("uuid[]", .uuid),
        .jsonbArray: ("jsonb[]", .jsonb),
    ]

    private static let arrayTypes: [PostgresDataType: PostgresDataType] = {
        var result: [PostgresDataType: PostgresDataType] = [:]
        for (array, entry) in catalog {
            if let element = entry.element { result[element] = array }
        }
        return result
    }()
}
