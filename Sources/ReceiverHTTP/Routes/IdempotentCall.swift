import HTTPServer
import HTTPTypes
import Postgres
import ReceiverCore

/// `Idempotency-Key` on `POST` (the contract; `Idempotency` in the core keeps the
/// keys): the first response is recorded with its status, `Content-Type`,
/// `Location` and `ETag`, and a retry gets it again, marked `Idempotent-Replayed: true`.
enum IdempotentCall {
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!
    private static let keyHeader = HTTPField.Name("Idempotency-Key")!
    /// The header fields a replay repeats.
    private static let recordedFields: [HTTPField.Name] = [.contentType, .location, .eTag]

    /// Runs `effect` in a transaction, under the request's idempotency key if it has one.
    static func perform(_ call: ConnectorCall, _ effect: (PostgresConnection) throws -> Response) throws -> Response {
        let request = try idempotentRequest(call)
        var first: Response?
        let (reply, replayed) = try Idempotency.perform(request, on: call.connection) { connection in
            let response = try effect(connection)
            first = response
            var fields = JSONObject()
            for name in recordedFields {
                if let value = response.headerFields[name] { fields[name.canonicalName] = .string(value) }
            }
            return RecordedReply(code: response.status.code, fields: fields, body: response.body)
        }
        if !replayed, let first { return first }
        var response = Response(status: HTTPResponse.Status(code: reply.code), body: reply.body)
        for (name, value) in reply.fields.members {
            if let fieldName = HTTPField.Name(name), let text = value.stringValue { response.headerFields[fieldName] = text }
        }
        if replayed { response.headerFields[replayedHeader] = "true" }
        return response
    }

    /// The request's key, if sent, with what makes two requests the same: the
    /// operation, the path and the body. RFC 9110 field syntax plus the contract's
    /// 1…255 visible ASCII.
    private static func idempotentRequest(_ call: ConnectorCall) throws -> IdempotentRequest? {
        guard let key = call.request.headerFields[keyHeader] else { return nil }
        guard IdempotentRequest.isValidKey(key) else {
            throw Problem.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        let fingerprint = IdempotentRequest.fingerprint(Array("\(call.operation)\n\(call.request.path)\n".utf8) + call.request.body)
        return IdempotentRequest(clientId: call.clientId, key: key, operation: call.operation, fingerprint: fingerprint)
    }
}
