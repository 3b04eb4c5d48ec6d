import HTTPTypes

extension HTTPField.Name {
    /// `X-Request-Id`: echoed or generated on every response.
    public static let xRequestID = HTTPField.Name("X-Request-Id")!

    /// `Host` (swift-http-types marks its own `.host` unavailable in favour of the HTTP/2
    /// `:authority` pseudo-header; HTTP/1.1 has a real Host field).
    public static let hostField = HTTPField.Name("Host")!
}

/// Header names the parser recognises without allocating, and the ones it interprets.
enum KnownFieldNames {
    enum Role {
        case plain
        case contentLength
        case transferEncoding
        case host
        case connection
        case expect
    }

    /// The shared `HTTPField.Name` (static strings, no allocation) and its role, or nil for a
    /// name this table does not know (the caller then builds one from the bytes).
    static func lookup(_ name: UnsafeRawBufferPointer) -> (HTTPField.Name, Role)? {
        // Dispatch on length first; each comparison is ASCII case-insensitive (RFC 9110 §5.1).
        switch name.count {
        case 4:
            if ASCII.equalsIgnoringCase(name, "host") { return (.hostField, .host) }
        case 6:
            if ASCII.equalsIgnoringCase(name, "accept") { return (.accept, .plain) }
            if ASCII.equalsIgnoringCase(name, "expect") { return (.expect, .expect) }
            if ASCII.equalsIgnoringCase(name, "cookie") { return (.cookie, .plain) }
            if ASCII.equalsIgnoringCase(name, "origin") { return (.origin, .plain) }
        case 7:
            if ASCII.equalsIgnoringCase(name, "referer") { return (.referer, .plain) }
        case 10:
            if ASCII.equalsIgnoringCase(name, "connection") { return (.connection, .connection) }
            if ASCII.equalsIgnoringCase(name, "user-agent") { return (.userAgent, .plain) }
        case 12:
            if ASCII.equalsIgnoringCase(name, "content-type") { return (.contentType, .plain) }
            if ASCII.equalsIgnoringCase(name, "x-request-id") { return (.xRequestID, .plain) }
        case 13:
            if ASCII.equalsIgnoringCase(name, "authorization") { return (.authorization, .plain) }
            if ASCII.equalsIgnoringCase(name, "cache-control") { return (.cacheControl, .plain) }
            if ASCII.equalsIgnoringCase(name, "if-none-match") { return (.ifNoneMatch, .plain) }
        case 14:
            if ASCII.equalsIgnoringCase(name, "content-length") { return (.contentLength, .contentLength) }
        case 15:
            if ASCII.equalsIgnoringCase(name, "accept-encoding") { return (.acceptEncoding, .plain) }
            if ASCII.equalsIgnoringCase(name, "accept-language") { return (.acceptLanguage, .plain) }
        case 17:
            if ASCII.equalsIgnoringCase(name, "transfer-encoding") { return (.transferEncoding, .transferEncoding) }
        default:
            break
        }
        return nil
    }
}
