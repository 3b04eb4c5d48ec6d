import CSodium
import Foundation
import Postgres

/// An idempotent request: a retry with the same key and the same request within
/// 24 hours gets the first reply again and writes nothing; the same key with a
/// different request is refused (`idempotencyKeyReused`).
///
/// The key row is inserted first, in the transaction that performs the effect,
/// and completed with the reply before COMMIT. A concurrent request with the same
/// key blocks on that row's unique index until the first commits, then finds the
/// stored reply: the effect runs once. If the first rolls back, the key is free
/// again and the retry runs the effect itself.
public struct IdempotentRequest: Sendable {
    public let clientId: String
    public let key: String
    /// What the request does (`METHOD /route/template`).
    public let operation: String
    /// What makes two requests "the same": see `fingerprint(_:)`.
    public let fingerprint: String

    public init(clientId: String, key: String, operation: String, fingerprint: String) {
        (self.clientId, self.key, self.operation, self.fingerprint) = (clientId, key, operation, fingerprint)
    }

    /// A key is 1 to 255 visible ASCII characters.
    public static func isValidKey(_ key: String) -> Bool {
        (1...255).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// BLAKE2b-256 of `parts`, in hex.
    public static func fingerprint(_ parts: [UInt8]) -> String {
        var message = parts
        var output = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&output, output.count, &message, UInt64(message.count), nil, 0)
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in output { hex += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// The first reply to an idempotent request, stored to be given again: whatever
/// the caller's protocol needs to repeat it (for HTTP, the status, a few header
/// fields and the body).
public struct RecordedReply: Sendable, Equatable {
    public var code: Int
    public var fields: JSONObject
    public var body: [UInt8]

    public init(code: Int, fields: JSONObject, body: [UInt8]) {
        (self.code, self.fields, self.body) = (code, fields, body)
    }
}

public enum Idempotency {
    /// How long a key is remembered (the contract's 24 hours); `RowRetention` deletes it after.
    package static let window: Duration = .seconds(24 * 3_600)

    /// Runs `effect` in a transaction under `request`'s key, or returns the reply
    /// recorded for it; without a request, just in a transaction. `replayed` tells
    /// whether the reply is a stored one.
    public static func perform(
        _ request: IdempotentRequest?, on connection: PostgresConnection,
        _ effect: (PostgresConnection) throws -> RecordedReply
    ) throws -> (reply: RecordedReply, replayed: Bool) {
        guard let request else {
            return (try connection.transaction { try effect($0) }, false)
        }
        return try connection.transaction { connection in
            // A key older than the window is forgotten: the request is new again.
            try connection.execute("""
                DELETE FROM idempotency_keys
                WHERE client_id = \(request.clientId) AND key = \(request.key) AND created_at < now() - \(window.secondsText)::interval
                """)
            let claimed = try connection.query("""
                INSERT INTO idempotency_keys (client_id, key, operation, request_hash, response_status, response_body)
                VALUES (\(request.clientId), \(request.key), \(request.operation), \(request.fingerprint), 0, '')
                ON CONFLICT (client_id, key) DO NOTHING
                RETURNING 1
                """)
            if claimed.isEmpty {
                return (try replay(request, on: connection), true)
            }
            let reply = try effect(connection)
            try connection.execute("""
                UPDATE idempotency_keys
                SET response_status = \(reply.code), response_headers = \(PostgresJSON(text: String(decoding: JSONWriter.serialize(.object(reply.fields)), as: UTF8.self))),
                    response_body = \(String(decoding: reply.body, as: UTF8.self))
                WHERE client_id = \(request.clientId) AND key = \(request.key)
                """)
            return (reply, false)
        }
    }

    private static func replay(_ request: IdempotentRequest, on connection: PostgresConnection) throws -> RecordedReply {
        guard let row = try connection.query("""
            SELECT operation, request_hash, response_status, response_headers, response_body
            FROM idempotency_keys WHERE client_id = \(request.clientId) AND key = \(request.key)
            """).first else {
            throw ReceiverError.conflict("The request with this Idempotency-Key is still in progress; retry shortly.")
        }
        guard try row.decode("operation", as: String.self) == request.operation,
              try row.decode("request_hash", as: String.self) == request.fingerprint else {
            throw ReceiverError.idempotencyKeyReused
        }
        let fields = try JSONParser.parse(Array(try row.decode("response_headers", as: PostgresJSON.self).text.utf8))
        return RecordedReply(
            code: try row.decode("response_status", as: Int.self), fields: fields.objectValue ?? [:],
            body: Array(try row.decode("response_body", as: String.self).utf8))
    }
}
