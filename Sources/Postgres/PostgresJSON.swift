import Foundation

/// A JSON document stored in a `jsonb` (or `json`) column, kept as its text.
///
/// Sent with the `jsonb` type, so `INSERT … VALUES (\(json))` needs no cast; the
/// server validates it (an invalid document fails with SQLSTATE `22P02`). Note that
/// `jsonb` normalizes documents (key order, whitespace, duplicate keys): what comes
/// back is equal as JSON, not byte for byte.
public struct PostgresJSON: Hashable, Sendable, CustomStringConvertible {
    /// The JSON text.
    public var text: String

    /// Wraps JSON text as is (the server validates it).
    public init(text: String) {
        self.text = text
    }

    /// Wraps UTF-8 JSON bytes; nil when they are not valid UTF-8.
    public init?(data: Data) {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        self.text = text
    }

    /// Encodes `value` with `encoder`.
    public init<Value: Encodable>(encoding value: Value, encoder: JSONEncoder = JSONEncoder()) throws {
        let data = try encoder.encode(value)
        self.text = String(decoding: data, as: UTF8.self)
    }

    /// The JSON text as UTF-8 bytes.
    public var data: Data {
        Data(text.utf8)
    }

    /// Decodes the document as `type`.
    public func decode<Value: Decodable>(_ type: Value.Type, decoder: JSONDecoder = JSONDecoder()) throws -> Value {
        try decoder.decode(type, from: data)
    }

    public var description: String { text }
}

extension PostgresJSON: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresDataType: PostgresDataType { .jsonb }

    public var postgresText: String? { text }

    public init(postgresText text: String, type: PostgresDataType) throws {
        try PostgresDecodingFailure.require(type, isOneOf: [.json, .jsonb])
        self.text = text
    }
}
