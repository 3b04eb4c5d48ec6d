import HTTPTypes

/// A complete HTTP request as handed to a handler: head, decoded path and query, and body.
///
/// The body is fully received (within ``HTTPServer/Limits/maxBodyBytes``) before the handler
/// runs; a handler that reads `Expect: 100-continue` requests never sees a partial body.
public struct Request: Sendable {
    /// The method, e.g. `.get`.
    public var method: HTTPRequest.Method
    /// The request-target exactly as received (origin-form `/path?query`, absolute-form, or `*`).
    public var target: String
    /// The percent-decoded path (always valid UTF-8, never containing NUL).
    public var path: String
    /// The raw (still percent-encoded) query string after `?`, if any.
    public var rawQuery: String?
    /// The decoded query parameters.
    public var query: QueryParameters
    /// The header fields in order of arrival (names case-insensitive).
    public var headerFields: HTTPFields
    /// The body bytes (de-chunked), empty when there is none.
    public var body: [UInt8]
    /// HTTP/1.0 or HTTP/1.1.
    public var version: HTTPVersion

    /// The path before percent-decoding; the router splits it into segments before decoding
    /// so that an encoded `%2F` stays inside its segment.
    var rawPath: Substring

    /// Creates a request, e.g. for unit-testing a handler without sockets.
    public init(
        method: HTTPRequest.Method, target: String, headerFields: HTTPFields = [:], body: [UInt8] = [],
        version: HTTPVersion = .http1_1
    ) {
        self.method = method
        self.target = target
        let questionMark = target.firstIndex(of: "?")
        self.rawPath = target[..<(questionMark ?? target.endIndex)]
        self.path = PercentDecoding.decodePath(Array(rawPath.utf8)) ?? String(rawPath)
        self.rawQuery = questionMark.map { String(target[target.index(after: $0)...]) }
        self.query = rawQuery.flatMap { PercentDecoding.parseQuery(Array($0.utf8)) } ?? QueryParameters()
        self.headerFields = headerFields
        self.body = body
        self.version = version
    }

    init(
        method: HTTPRequest.Method, target: String, rawPath: Substring, path: String, rawQuery: String?,
        query: QueryParameters, headerFields: HTTPFields, body: [UInt8], version: HTTPVersion
    ) {
        self.method = method
        self.target = target
        self.rawPath = rawPath
        self.path = path
        self.rawQuery = rawQuery
        self.query = query
        self.headerFields = headerFields
        self.body = body
        self.version = version
    }

    /// The head as a swift-http-types `HTTPRequest` (authority from `Host`), for interop.
    public var httpRequest: HTTPRequest {
        HTTPRequest(
            method: method, scheme: nil, authority: headerFields[.hostField], path: target,
            headerFields: headerFields)
    }
}

extension HTTPFields {
    /// The field's value as `self[name]` gives it (several occurrences joined), but
    /// without building an array of values and joining it when, as nearly always,
    /// the field occurs once: that took a few microseconds of every request.
    public func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
