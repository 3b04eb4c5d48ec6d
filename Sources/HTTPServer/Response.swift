import HTTPTypes

/// A response produced by a handler: status, header fields and a body.
///
/// The server owns the framing: it always writes `Content-Length` (from `body`), `Date`,
/// `Connection` when needed, and `X-Request-Id`; any of those set here are ignored. For `HEAD`
/// requests the body is dropped but `Content-Length` still describes it (RFC 9110 §9.3.2).
public struct Response: Sendable {
    /// The status, e.g. `.ok`.
    public var status: HTTPResponse.Status
    /// Header fields to send (e.g. `Content-Type`, `Location`, `ETag`).
    public var headerFields: HTTPFields
    /// The body bytes.
    public var body: [UInt8]

    /// A response with raw body bytes (no `Content-Type` is added).
    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// A UTF-8 text response; sets `Content-Type: text/plain; charset=utf-8` unless given.
    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], text: String) {
        self.init(status: status, headerFields: headerFields, body: Array(text.utf8))
        if !self.headerFields.contains(.contentType) {
            self.headerFields.append(Self.plainTextType)
        }
    }

    /// A JSON response from already-encoded bytes; sets `Content-Type: application/json`.
    public static func json(_ body: [UInt8], status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:]) -> Response {
        var response = Response(status: status, headerFields: headerFields, body: body)
        if !response.headerFields.contains(.contentType) {
            response.headerFields.append(jsonType)
        }
        return response
    }

    // Built once (legalizing a field value scans it); only literal strings inside, so sharing
    // them between threads costs no reference counting.
    private static let plainTextType = HTTPField(name: .contentType, value: "text/plain; charset=utf-8")
    private static let jsonType = HTTPField(name: .contentType, value: "application/json")

    /// An RFC 9457 `application/problem+json` response:
    /// `{"type":"about:blank","title":"Not Found","status":404,"detail":"..."}`.
    public static func problem(
        status: HTTPResponse.Status, detail: String? = nil, type: String = "about:blank", title: String? = nil,
        headerFields: HTTPFields = [:]
    ) -> Response {
        let document = ProblemDetails(type: type, title: title ?? StatusLines.reasonPhrase(for: status), status: status.code, detail: detail)
        var response = Response(status: status, headerFields: headerFields, body: document.jsonBytes())
        response.headerFields[.contentType] = "application/problem+json"
        return response
    }
}

/// An RFC 9457 problem details document (the members this server uses).
public struct ProblemDetails: Sendable, Hashable {
    /// A URI reference identifying the problem type; "about:blank" means "see the status".
    public var type: String
    /// A short summary; for "about:blank" the status's reason phrase (RFC 9457 §4.2.1).
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// An explanation specific to this occurrence, safe to show the client.
    public var detail: String?

    /// A problem document; see RFC 9457 §3.1 for the members.
    public init(type: String = "about:blank", title: String, status: Int, detail: String? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
    }

    /// The JSON encoding, members in a fixed order.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + (detail?.utf8.count ?? 0))
        out.append(contentsOf: #"{"type":"#.utf8)
        JSON.appendString(type, to: &out)
        out.append(contentsOf: #","title":"#.utf8)
        JSON.appendString(title, to: &out)
        out.append(contentsOf: #","status":"#.utf8)
        out.append(contentsOf: String(status).utf8)
        if let detail {
            out.append(contentsOf: #","detail":"#.utf8)
            JSON.appendString(detail, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Minimal JSON string encoding (RFC 8259 §7) for problem documents.
enum JSON {
    static func appendString(_ string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
