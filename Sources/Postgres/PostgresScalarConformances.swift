import Foundation

// Conformances of the standard scalar types. Each decoder checks the column's type
// first, so a schema change (an int column read as Bool, a timestamp read as Int)
// fails loudly instead of producing a plausible wrong value.

extension String: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .text }

    public var postgresText: String? { self }

    /// Accepts every column type: the result is the server's text form of the value
    /// (which is how enums, `citext`, `inet` and friends are read).
    public init(postgresText text: String, type: PostgresDataType) {
        self = text
    }
}

extension Bool: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .bool }

    public var postgresText: String? { self ? "true" : "false" }

    public init(postgresText text: String, type: PostgresDataType) throws {
        try PostgresDecodingFailure.require(type, isOneOf: [.bool])
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure("the text is not a boolean")
        }
    }
}

/// Shared integer decoding: accept only integer columns, and fail (rather than wrap
/// or truncate) when the value does not fit the Swift type.
private func decodeInteger<T: FixedWidthInteger>(_ text: String, type: PostgresDataType, accepted: Set<PostgresDataType>) throws -> T {
    try PostgresDecodingFailure.require(type, isOneOf: accepted)
    guard let value = T(text) else {
        throw PostgresDecodingFailure("the text is not an integer that fits in \(T.self)")
    }
    return value
}

extension Int: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .int8 }
    public var postgresText: String? { String(self) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try decodeInteger(text, type: type, accepted: [.int2, .int4, .int8, .oid])
    }
}

extension Int64: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .int8 }
    public var postgresText: String? { String(self) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try decodeInteger(text, type: type, accepted: [.int2, .int4, .int8, .oid])
    }
}

extension Int32: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .int4 }
    public var postgresText: String? { String(self) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try decodeInteger(text, type: type, accepted: [.int2, .int4])
    }
}

extension Int16: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .int2 }
    public var postgresText: String? { String(self) }
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try decodeInteger(text, type: type, accepted: [.int2])
    }
}

extension Double: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .float8 }

    /// Swift's shortest round-tripping form (`0.1`, `1e-07`), which `float8in` reads
    /// back to the same bits; the special values use PostgreSQL's spelling.
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }

    /// Accepts `float4`, `float8`, `numeric` and integer columns (numeric values beyond
    /// Double's precision are rounded, as `numeric::float8` would).
    public init(postgresText text: String, type: PostgresDataType) throws {
        try PostgresDecodingFailure.require(type, isOneOf: [.float4, .float8, .numeric, .int2, .int4, .int8])
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else {
                throw PostgresDecodingFailure("the text is not a number")
            }
            self = value
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .uuid }
    public var postgresText: String? { uuidString }
    public init(postgresText text: String, type: PostgresDataType) throws {
        try PostgresDecodingFailure.require(type, isOneOf: [.uuid])
        guard let value = UUID(hyphenatedHex: text) ?? UUID(uuidString: text) else {
            throw PostgresDecodingFailure("the text is not a UUID")
        }
        self = value
    }

    /// The form PostgreSQL writes a uuid in (`8-4-4-4-12` hex digits), read without
    /// Foundation's `UUID(uuidString:)`, which goes through `sscanf`: a few UUIDs
    /// in every row made that 2 % of the server's CPU on a read. nil for any other text.
    init?(hyphenatedHex text: String) {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &uuid) { output -> Bool in
            text.utf8.withContiguousStorageIfAvailable { input -> Bool in
                guard input.count == 36 else { return false }
                var byte = 0
                var index = 0
                while index < 36 {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        guard input[index] == UInt8(ascii: "-") else { return false }
                        index += 1
                        continue
                    }
                    guard let high = Self.hexValue(input[index]), let low = Self.hexValue(input[index + 1]) else { return false }
                    output[byte] = high << 4 | low
                    byte += 1
                    index += 2
                }
                return true
            } ?? false  // not contiguous UTF-8: Foundation reads it
        }
        guard parsed else { return nil }
        self.init(uuid: uuid)
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
