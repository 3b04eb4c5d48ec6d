import HTTPTypes

/// Pre-built `HTTP/1.1 <code> <reason>\r\n` lines for the registered status codes.
enum StatusLines {
    private static let standard: [HTTPResponse.Status] = [
        .continue, .switchingProtocols, .earlyHints, .ok, .created, .accepted, .nonAuthoritativeInformation,
        .noContent, .resetContent, .partialContent, .multipleChoices, .movedPermanently, .found, .seeOther,
        .notModified, .temporaryRedirect, .permanentRedirect, .badRequest, .unauthorized, .forbidden, .notFound,
        .methodNotAllowed, .notAcceptable, .proxyAuthenticationRequired, .requestTimeout, .conflict, .gone,
        .lengthRequired, .preconditionFailed, .contentTooLarge, .uriTooLong, .unsupportedMediaType,
        .rangeNotSatisfiable, .expectationFailed, .misdirectedRequest, .unprocessableContent, .tooEarly,
        .upgradeRequired, .preconditionRequired, .tooManyRequests, .requestHeaderFieldsTooLarge,
        .unavailableForLegalReasons, .internalServerError, .notImplemented, .badGateway, .serviceUnavailable,
        .gatewayTimeout, .httpVersionNotSupported, .networkAuthenticationRequired,
    ]

    /// Indexed by status code (0..<600); empty where the code is not registered.
    private static let lines: [[UInt8]] = {
        var table = [[UInt8]](repeating: [], count: 600)
        for status in standard {
            table[status.code] = Array("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
        }
        return table
    }()

    private static let phrases: [String] = {
        var table = [String](repeating: "", count: 600)
        for status in standard { table[status.code] = status.reasonPhrase }
        return table
    }()

    /// The registered reason phrase for the code (or the status's own phrase when it has one).
    static func reasonPhrase(for status: HTTPResponse.Status) -> String {
        if !status.reasonPhrase.isEmpty { return status.reasonPhrase }
        if status.code < 600, !phrases[status.code].isEmpty { return phrases[status.code] }
        return "Status \(status.code)"
    }

    /// Appends the status line. A status built from an integer literal has no phrase; the
    /// registered one is used.
    static func append(_ status: HTTPResponse.Status, to out: inout [UInt8]) {
        if status.code < 600 {
            let line = lines[status.code]
            if !line.isEmpty && (status.reasonPhrase.isEmpty || status.reasonPhrase == phrases[status.code]) {
                out.append(contentsOf: line)
                return
            }
        }
        out.append(contentsOf: "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
    }
}
