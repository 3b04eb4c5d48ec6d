import HTTPTypes

/// An error that knows the HTTP response it stands for. Throw one from a handler to answer
/// with its status; anything else thrown becomes a logged 500 whose details never reach the
/// client.
public protocol HTTPResponseError: Error {
    /// The response status.
    var status: HTTPResponse.Status { get }
    /// The problem `detail`, shown to the client (so never include secrets); nil omits it.
    var problemDetail: String? { get }
    /// Extra header fields, e.g. `Allow` or `Retry-After`.
    var headerFields: HTTPFields { get }
    /// The response sent; by default an RFC 9457 `application/problem+json` document.
    func makeResponse() -> Response
}

extension HTTPResponseError {
    /// No detail by default.
    public var problemDetail: String? { nil }
    /// No extra fields by default.
    public var headerFields: HTTPFields { [:] }

    /// An RFC 9457 problem document with `status`, `problemDetail` and `headerFields`.
    public func makeResponse() -> Response {
        .problem(status: status, detail: problemDetail, headerFields: headerFields)
    }
}

/// A ready-made ``HTTPResponseError``: a status, an optional detail and header fields.
///
/// ```swift
/// throw HTTPError(.notFound, detail: "No prospect with id \(id).")
/// throw HTTPError.unsupportedMediaType(detail: "Send application/json.")
/// ```
public struct HTTPError: HTTPResponseError, CustomStringConvertible, Sendable {
    /// The response status.
    public var status: HTTPResponse.Status
    /// The problem `detail` shown to the client.
    public var problemDetail: String?
    /// Extra response header fields.
    public var headerFields: HTTPFields
    /// The problem `type` URI ("about:blank" unless the API documents its own types).
    public var problemType: String

    /// An error answering `status` with an optional detail and header fields.
    public init(
        _ status: HTTPResponse.Status, detail: String? = nil, headerFields: HTTPFields = [:],
        problemType: String = "about:blank"
    ) {
        self.status = status
        self.problemDetail = detail
        self.headerFields = headerFields
        self.problemType = problemType
    }

    /// The problem document for this error, with its `problemType`.
    public func makeResponse() -> Response {
        .problem(status: status, detail: problemDetail, type: problemType, headerFields: headerFields)
    }

    public var description: String {
        "HTTPError(\(status.code)\(problemDetail.map { ": " + $0 } ?? ""))"
    }

    /// 400 Bad Request.
    public static func badRequest(detail: String? = nil) -> HTTPError { HTTPError(.badRequest, detail: detail) }
    /// 404 Not Found.
    public static func notFound(detail: String? = nil) -> HTTPError { HTTPError(.notFound, detail: detail) }
    /// 405 Method Not Allowed with the `Allow` field listing what the resource supports
    /// (RFC 9110 §15.5.6 requires it).
    public static func methodNotAllowed(allow: [HTTPRequest.Method], detail: String? = nil) -> HTTPError {
        var fields = HTTPFields()
        fields[.allow] = allow.map(\.rawValue).joined(separator: ", ")
        return HTTPError(.methodNotAllowed, detail: detail, headerFields: fields)
    }
    /// 408 Request Timeout.
    public static func requestTimeout(detail: String? = nil) -> HTTPError { HTTPError(.requestTimeout, detail: detail) }
    /// 409 Conflict.
    public static func conflict(detail: String? = nil) -> HTTPError { HTTPError(.conflict, detail: detail) }
    /// 413 Content Too Large.
    public static func contentTooLarge(detail: String? = nil) -> HTTPError { HTTPError(.contentTooLarge, detail: detail) }
    /// 414 URI Too Long.
    public static func uriTooLong(detail: String? = nil) -> HTTPError { HTTPError(.uriTooLong, detail: detail) }
    /// 415 Unsupported Media Type; `accept` (e.g. `application/json`) is advertised in
    /// `Accept` (RFC 9110 §15.5.16 suggests it).
    public static func unsupportedMediaType(accept: String? = nil, detail: String? = nil) -> HTTPError {
        var fields = HTTPFields()
        if let accept { fields[.accept] = accept }
        return HTTPError(.unsupportedMediaType, detail: detail, headerFields: fields)
    }
    /// 422 Unprocessable Content.
    public static func unprocessableContent(detail: String? = nil) -> HTTPError {
        HTTPError(.unprocessableContent, detail: detail)
    }
    /// 431 Request Header Fields Too Large.
    public static func requestHeaderFieldsTooLarge(detail: String? = nil) -> HTTPError {
        HTTPError(.requestHeaderFieldsTooLarge, detail: detail)
    }
    /// 500 Internal Server Error (no detail: internals are not the client's business).
    public static func internalServerError() -> HTTPError { HTTPError(.internalServerError) }
    /// 501 Not Implemented.
    public static func notImplemented(detail: String? = nil) -> HTTPError { HTTPError(.notImplemented, detail: detail) }
    /// 503 Service Unavailable, optionally with `Retry-After` seconds.
    public static func serviceUnavailable(retryAfterSeconds: Int? = nil, detail: String? = nil) -> HTTPError {
        var fields = HTTPFields()
        if let retryAfterSeconds { fields[.retryAfter] = String(retryAfterSeconds) }
        return HTTPError(.serviceUnavailable, detail: detail, headerFields: fields)
    }
    /// 505 HTTP Version Not Supported.
    public static func httpVersionNotSupported(detail: String? = nil) -> HTTPError {
        HTTPError(.httpVersionNotSupported, detail: detail)
    }
}
