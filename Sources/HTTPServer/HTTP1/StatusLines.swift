import HTTPTypes

/// `HTTP/1.1 <code> <reason>\r\n` status lines, pre-built for the registered status codes.
///
/// Each response encoder (one per event loop) owns its own table: a shared global array would
/// have its reference count bounced between the loops' cores on every response.
struct StatusLines {
    /// Indexed by status code (0..<600); empty where the code is not registered.
    private let lines: [[UInt8]]

    init() {
        var table = [[UInt8]](repeating: [], count: 600)
        for code in 100..<600 {
            if let phrase = Self.registeredPhrase(code) {
                table[code] = Array("HTTP/1.1 \(code) \(phrase)\r\n".utf8)
            }
        }
        lines = table
    }

    /// The IANA-registered reason phrase (RFC 9110 §15), or nil.
    static func registeredPhrase(_ code: Int) -> String? {
        switch code {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 103: return "Early Hints"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 203: return "Non-Authoritative Information"
        case 204: return "No Content"
        case 205: return "Reset Content"
        case 206: return "Partial Content"
        case 300: return "Multiple Choices"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Range Not Satisfiable"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 425: return "Too Early"
        case 426: return "Upgrade Required"
        case 428: return "Precondition Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 451: return "Unavailable For Legal Reasons"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        case 511: return "Network Authentication Required"
        default: return nil
        }
    }

    /// The status's own phrase, else the registered one, else "Status N".
    static func reasonPhrase(for status: HTTPResponse.Status) -> String {
        if !status.reasonPhrase.isEmpty { return status.reasonPhrase }
        return registeredPhrase(status.code) ?? "Status \(status.code)"
    }

    /// Appends the status line. A status built from an integer literal has no phrase; the
    /// registered one is used.
    func append(_ status: HTTPResponse.Status, to out: inout [UInt8]) {
        let code = status.code
        if code >= 100 && code < 600 {
            let registered = lines[code]
            if !registered.isEmpty && (status.reasonPhrase.isEmpty || status.reasonPhrase == Self.registeredPhrase(code)) {
                out.append(contentsOf: registered)
                return
            }
        }
        out.append(contentsOf: "HTTP/1.1 \(code) \(status.reasonPhrase)\r\n".utf8)
    }
}
