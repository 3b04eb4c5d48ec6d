import HTTPServer
import HTTPTypes
import ReceiverCore

/// An RFC 9457 problem the receiver answers with: the status, a stable `type`
/// URI, a `detail` safe to show, and for validation failures the `errors[]`
/// naming each bad field. Thrown from handlers; the server turns it into the
/// `application/problem+json` response.
public struct Problem: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A URN naming the kind of problem, e.g. `urn:connector-receiver:problem:validation`.
    public var type: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    /// Extension members (RFC 9457 §3.2), e.g. `existingId` on a duplicate external id.
    public var extensions: JSONObject
    public var headerFields: HTTPFields

    public init(
        _ status: HTTPResponse.Status, type: String, title: String, detail: String? = nil,
        errors: [FieldError] = [], extensions: JSONObject = [:], headerFields: HTTPFields = [:]
    ) {
        self.status = status
        self.type = "urn:connector-receiver:problem:" + type
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headerFields = headerFields
    }

    public var problemDetail: String? { detail }

    public var description: String {
        "Problem(\(status.code) \(type)\(detail.map { ": " + $0 } ?? ""))"
    }

    /// The problem document as JSON.
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            "type": .string(type),
            "title": .string(title),
            "status": .number(Double(status.code)),
        ]
        if let detail { object["detail"] = .string(detail) }
        if !errors.isEmpty {
            object["errors"] = .array(errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) })
        }
        for (name, value) in extensions.members { object[name] = value }
        return object
    }

    public func makeResponse() -> Response {
        var response = Response(status: status, headerFields: headerFields, body: JSONWriter.serialize(.object(jsonObject)))
        response.headerFields[.contentType] = "application/problem+json"
        return response
    }
}

extension Problem {
    /// 422 naming every invalid field.
    static func validation(_ errors: [FieldError]) -> Problem {
        let fields = errors.map(\.field)
        let detail = fields.count == 1
            ? "The field \(fields[0]) is invalid: \(errors[0].message)."
            : "\(fields.count) fields are invalid: \(fields.joined(separator: ", "))."
        return Problem(.unprocessableContent, type: "validation", title: "Invalid request content", detail: detail, errors: errors)
    }

    public static func invalidField(_ field: String, _ message: String) -> Problem {
        validation([FieldError(field: field, message: message)])
    }

    public static func badRequest(_ detail: String) -> Problem {
        Problem(.badRequest, type: "bad-request", title: "Bad request", detail: detail)
    }

    public static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, type: "not-found", title: "Not found", detail: detail)
    }

    public static func conflict(_ detail: String, extensions: JSONObject = [:]) -> Problem {
        Problem(.conflict, type: "conflict", title: "Conflict", detail: detail, extensions: extensions)
    }

    public static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(.unsupportedMediaType, type: "unsupported-media-type", title: "Unsupported media type", detail: detail)
    }

    public static func preconditionFailed(_ detail: String) -> Problem {
        Problem(.preconditionFailed, type: "precondition-failed", title: "Precondition failed", detail: detail)
    }

    /// 503 with Retry-After: more requests than the server can start (admission control
    /// shed this one before any work); nothing was done.
    public static func overloaded(retryAfterSeconds: Int = 2) -> Problem {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return Problem(
            .serviceUnavailable, type: "overloaded", title: "Service unavailable",
            detail: "The receiver has more requests than it can take; nothing was done. Retry after \(retryAfterSeconds) seconds.",
            headerFields: headers)
    }

    /// 429 with Retry-After: the client is over its request rate; nothing was done.
    public static func rateLimited(clientId: String, settings: ClientRateLimiter.Settings, retryAfterSeconds: Int) -> Problem {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        let rate = settings.requestsPerSecond.rounded() == settings.requestsPerSecond
            ? String(Int(settings.requestsPerSecond)) : String(settings.requestsPerSecond)
        return Problem(
            .tooManyRequests, type: "rate-limited", title: "Too many requests",
            detail: "The client \(clientId) is over its limit of \(rate) requests per second (bursts of \(settings.burst)); nothing was done. Retry after \(retryAfterSeconds) seconds.",
            headerFields: headers)
    }

    /// 503 with Retry-After: the database is unreachable or saturated; nothing was written.
    public static func databaseUnavailable(retryAfterSeconds: Int = 2, detail: String? = nil) -> Problem {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return Problem(
            .serviceUnavailable, type: "database-unavailable", title: "Service unavailable",
            detail: detail ?? "The database is unavailable; nothing was written. Retry after \(retryAfterSeconds) seconds.",
            headerFields: headers)
    }
}
