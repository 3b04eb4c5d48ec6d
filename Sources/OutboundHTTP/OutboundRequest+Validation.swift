extension OutboundRequest {
    /// Refuses requests libcurl would send wrongly or dangerously, before any I/O. Both clients
    /// call this first; it returns the parsed target for error messages and per-host limits.
    func validate() throws(OutboundHTTPError) -> RequestTarget {
        func invalid(_ message: String) -> OutboundHTTPError {
            OutboundHTTPError(kind: .invalidRequest, message: message)
        }
        // RFC 9110 §9.1: the method is a token.
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw invalid("invalid HTTP method \"\(method)\" — use a method token such as GET or POST")
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw invalid("invalid header name \"\(name)\" — header names are tokens (letters, digits, -)")
            }
            // CR or LF would let a value inject header lines; NUL would truncate it in C.
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw invalid("the value of header \"\(name)\" contains CR, LF or NUL — remove line breaks from header values")
            }
        }
        if let auth = basicAuth {
            // RFC 7617 §2: the user-id cannot contain a colon; NUL would truncate the C string.
            guard !auth.username.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == 0 }) else {
                throw invalid("the Basic auth username contains ':' or NUL, which HTTP Basic cannot carry")
            }
            guard !auth.password.utf8.contains(0) else {
                throw invalid("the Basic auth password contains a NUL byte, which cannot be sent")
            }
        }
        guard connectTimeout > .zero, totalTimeout > .zero else {
            throw invalid("timeouts must be positive (libcurl treats 0 as \"wait forever\")")
        }
        guard maxRedirects >= 0 else {
            throw invalid("maxRedirects must not be negative")
        }
        guard !url.utf8.contains(0) else {
            throw OutboundHTTPError(kind: .invalidURL, message: "the URL contains a NUL byte")
        }
        return try RequestTarget.parse(url)
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
