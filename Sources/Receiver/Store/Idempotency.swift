import CSodium
import Foundation
import HTTPServer
import HTTPTypes
import Postgres

/// `Idempotency-Key` on `POST`: a retry with the same key and the same request
/// within 24 hours gets the first response again and writes nothing; the same
/// key with a different request is a 422.
///
/// The key row is inserted first, in the transaction that performs the effect,
/// and completed with the response before COMMIT. A concurrent request with the
/// same key blocks on that row's unique index until the first commits, then
/// finds the stored response: the effect runs once. If the first rolls back,
/// the key is free again and the retry runs the effect itself.
enum Idempotency {
    static let window = "24 hours"
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// Runs `effect` in a transaction, under the request's idempotency key if it has one.
    static func perform(_ call: ConnectorCall, _ effect: (PostgresConnection) throws -> Response) throws -> Response {
        guard let key = try key(call.request) else {
            return try call.connection.transaction { try effect($0) }
        }
        let requestHash = fingerprint(call)
        return try call.connection.transaction { connection in
            // A key older than the window is forgotten: the request is new again.
            try connection.execute("""
                DELETE FROM idempotency_keys
                WHERE client_id = \(call.client.clientId) AND key = \(key) AND created_at < now() - \(window)::interval
                """)
            let claimed = try connection.query("""
                INSERT INTO idempotency_keys (client_id, key, operation, request_hash, response_status, response_body)
                VALUES (\(call.client.clientId), \(key), \(call.operation), \(requestHash), 0, '')
                ON CONFLICT (client_id, key) DO NOTHING
                RETURNING 1
                """)
            if claimed.isEmpty {
                return try replay(call, key: key, requestHash: requestHash, on: connection)
            }
            let response = try effect(connection)
            try connection.execute("""
                UPDATE idempotency_keys
                SET response_status = \(response.status.code), response_headers = \(storedHeaders(response)),
                    response_body = \(String(decoding: response.body, as: UTF8.self))
                WHERE client_id = \(call.client.clientId) AND key = \(key)
                """)
            return response
        }
    }

    /// The key, if sent; RFC 9110 field syntax plus the contract's 1…255 visible ASCII.
    static func key(_ request: Request) throws -> String? {
        guard let key = request.headerFields[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        return key
    }

    private static func replay(_ call: ConnectorCall, key: String, requestHash: String, on connection: PostgresConnection) throws -> Response {
        guard let row = try connection.query("""
            SELECT operation, request_hash, response_status, response_headers, response_body
            FROM idempotency_keys WHERE client_id = \(call.client.clientId) AND key = \(key)
            """).first else {
            throw Problem.conflict("The request with this Idempotency-Key is still in progress; retry shortly.")
        }
        guard try row.decode("operation", as: String.self) == call.operation,
              try row.decode("request_hash", as: String.self) == requestHash else {
            throw Problem(.unprocessableContent, type: "idempotency-key-reused", title: "Idempotency-Key reused",
                          detail: "This Idempotency-Key was used for a different request in the last 24 hours; use a new key for a new request.",
                          errors: [FieldError(field: "Idempotency-Key", message: "was used for a different request")])
        }
        let status = try row.decode("response_status", as: Int.self)
        var response = Response(status: HTTPResponse.Status(code: status), body: Array(try row.decode("response_body", as: String.self).utf8))
        let headers = try JSONParser.parse(Array(try row.decode("response_headers", as: PostgresJSON.self).text.utf8))
        for (name, value) in headers.objectValue?.members ?? [] {
            if let fieldName = HTTPField.Name(name), let text = value.stringValue { response.headerFields[fieldName] = text }
        }
        response.headerFields[replayedHeader] = "true"
        return response
    }

    private static func storedHeaders(_ response: Response) -> PostgresJSON {
        var object = JSONObject()
        for name in [HTTPField.Name.contentType, .location, .eTag] {
            if let value = response.headerFields[name] { object[name.canonicalName] = .string(value) }
        }
        return PostgresJSON(text: String(decoding: JSONWriter.serialize(.object(object)), as: UTF8.self))
    }

    /// BLAKE2b-256 of the operation, path and body: what makes two requests "the same".
    static func fingerprint(_ call: ConnectorCall) -> String {
        var message = Array("\(call.operation)\n\(call.request.path)\n".utf8) + call.request.body
        var output = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&output, output.count, &message, UInt64(message.count), nil, 0)
        return output.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
    }
}
