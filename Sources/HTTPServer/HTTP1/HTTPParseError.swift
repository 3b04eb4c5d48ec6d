import HTTPTypes

/// Why a request was rejected while parsing. Every parse error closes the connection: after a
/// framing or syntax problem the position of the next request cannot be trusted (RFC 9112 §6.3,
/// §11.2 request smuggling).
struct HTTPParseError: Error, Equatable, Sendable {
    enum Reason: Equatable, Sendable {
        case invalidRequestLine
        case invalidMethod
        case invalidTarget
        case invalidPercentEncoding
        case encodedNUL
        case invalidUTF8
        case invalidVersion
        case unsupportedVersion
        case requestLineTooLong
        case headerSectionTooLarge
        case tooManyHeaders
        case tooManyEmptyLines
        case bareLF
        case obsFold
        case whitespaceBeforeColon
        case invalidFieldName
        case invalidFieldLine
        case invalidFieldValue
        case missingHost
        case duplicateHost
        case invalidHost
        case invalidContentLength
        case conflictingContentLength
        case contentLengthWithTransferEncoding
        case transferEncodingInHTTP10
        case chunkedNotFinal
        case chunkedAppliedTwice
        case unsupportedTransferCoding
        case bodyTooLarge
        case invalidChunkSize
        case chunkExtensionTooLong
        case invalidChunkExtension
        case invalidChunk
        case trailerSectionTooLarge
        case invalidTrailer
        case unsupportedExpectation
    }

    let reason: Reason

    init(_ reason: Reason) {
        self.reason = reason
    }

    /// The status answered before closing.
    var status: HTTPResponse.Status {
        switch reason {
        case .requestLineTooLong: return .uriTooLong  // 414
        case .headerSectionTooLarge, .tooManyHeaders, .trailerSectionTooLarge: return .requestHeaderFieldsTooLarge  // 431
        case .bodyTooLarge: return .contentTooLarge  // 413
        case .unsupportedTransferCoding: return .notImplemented  // 501
        case .unsupportedVersion: return .httpVersionNotSupported  // 505
        case .unsupportedExpectation: return .expectationFailed  // 417
        default: return .badRequest
        }
    }

    /// The `detail` of the problem response: what was wrong, in words a client developer acts on.
    var detail: String {
        switch reason {
        case .invalidRequestLine: return "The request line is not 'method SP request-target SP HTTP-version'."
        case .invalidMethod: return "The request method is not a valid token."
        case .invalidTarget: return "The request target is not a valid origin-form or absolute-form URI."
        case .invalidPercentEncoding: return "The request target contains a '%' not followed by two hex digits."
        case .encodedNUL: return "The request target contains an encoded NUL (%00)."
        case .invalidUTF8: return "The decoded request target is not valid UTF-8."
        case .invalidVersion: return "The HTTP version is malformed."
        case .unsupportedVersion: return "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .requestLineTooLong: return "The request line is longer than this server accepts."
        case .headerSectionTooLarge: return "The header section is larger than this server accepts."
        case .tooManyHeaders: return "The request has more header fields than this server accepts."
        case .tooManyEmptyLines: return "Too many empty lines before the request line."
        case .bareLF: return "Lines must end with CRLF; a bare LF was received."
        case .obsFold: return "Header field line folding (obs-fold) is not accepted."
        case .whitespaceBeforeColon: return "Whitespace between a header field name and the colon is not allowed."
        case .invalidFieldName: return "A header field name is not a valid token."
        case .invalidFieldLine: return "A header field line has no colon."
        case .invalidFieldValue: return "A header field value contains a control character."
        case .missingHost: return "HTTP/1.1 requests must carry a Host header field."
        case .duplicateHost: return "The request carries more than one Host header field."
        case .invalidHost: return "The Host header field value is not a valid authority."
        case .invalidContentLength: return "The Content-Length header field is not a non-negative decimal integer."
        case .conflictingContentLength: return "The request carries conflicting Content-Length values."
        case .contentLengthWithTransferEncoding: return "Content-Length and Transfer-Encoding must not both be sent."
        case .transferEncodingInHTTP10: return "Transfer-Encoding is not allowed in HTTP/1.0 requests."
        case .chunkedNotFinal: return "The final transfer coding must be chunked."
        case .chunkedAppliedTwice: return "The chunked transfer coding must not be applied more than once."
        case .unsupportedTransferCoding: return "Only the chunked transfer coding is supported."
        case .bodyTooLarge: return "The request body is larger than this server accepts."
        case .invalidChunkSize: return "A chunk size is not a hexadecimal number of at most 16 digits followed by CRLF or an extension."
        case .invalidChunkExtension: return "A chunk extension is not ';name' or ';name=value' (a token or a quoted string)."
        case .chunkExtensionTooLong: return "A chunk extension is longer than this server accepts."
        case .invalidChunk: return "The chunked body is malformed."
        case .trailerSectionTooLarge: return "The trailer section is larger than this server accepts."
        case .invalidTrailer: return "A trailer field line is malformed."
        case .unsupportedExpectation: return "Only the 100-continue expectation is supported."
        }
    }
}
