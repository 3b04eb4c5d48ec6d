import Glibc
import HTTPTypes

/// A request that finished parsing, with what the connection needs to know about it.
struct ParsedRequest: Sendable {
    var request: Request
    /// RFC 9112 §9.3: whether the connection may carry another request after this one.
    var keepAlive: Bool
}

/// An incremental HTTP/1.1 request parser (RFC 9112 message syntax, RFC 9110 semantics).
///
/// ### Feeding
/// The caller passes every byte it has not seen consumed: `parse(_:limits:)` returns one event
/// and how many bytes it consumed. Head bytes are *not* consumed until the whole header section
/// has arrived, so the caller keeps them (typically in the connection's small inbound buffer)
/// and passes them again, followed by new bytes; the parser remembers how far it scanned, so
/// the total work stays linear. Body bytes are consumed (copied into the request body) as they
/// come. The outcome depends only on the byte sequence, never on how it was split.
///
/// ### Strictness
/// Anything ambiguous is rejected rather than repaired — each check cites the rule it
/// implements. Lines must end in CRLF: a bare LF is rejected (RFC 9112 §2.2 permits accepting
/// it, but lenient line parsing is a request-smuggling vector when a proxy in front of us
/// disagrees). Every error is final: the connection answers with the error's status and closes.
///
/// The parser holds no buffers while idle, so an idle keep-alive connection costs only the
/// few words of this struct.
struct HTTPRequestParser {
    enum Event {
        /// Everything given was consumed or retained; call again with more bytes.
        case needMoreData
        /// The head of a request with `Expect: 100-continue` and a body is complete and within
        /// limits; the body has not been read. The caller decides whether to send
        /// `100 Continue` (RFC 9110 §10.1.1), then keeps feeding.
        case expectContinue
        /// A complete request.
        case request(ParsedRequest)
        /// The request is invalid; the connection must answer `status` and close.
        case error(HTTPParseError)
    }

    private enum State {
        case head
        case fixedBody
        case chunked
        case failed(HTTPParseError)
    }

    private enum ChunkState {
        case size, sizeWhitespace, sizeLF
        // chunk-ext, RFC 9112 §7.1.1 (see ``chunkExtensionTransition(_:_:)``).
        case extensionBeforeName, extensionName, extensionAfterName, extensionBeforeValue
        case extensionToken, extensionQuoted, extensionQuotedPair, extensionQuotedEnd, extensionAfterValue
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF

        /// States in which CRLF may end the chunk-size line: right after an extension's name or
        /// value, never after whitespace (BWS only precedes ";" or "=").
        var endsChunkExtension: Bool {
            switch self {
            case .extensionName, .extensionToken, .extensionQuotedEnd: return true
            default: return false
            }
        }
    }

    /// The most hex digits of a chunk size, leading zeros included (16 digits hold any 64-bit
    /// size). RFC 9112 §7.1 sets no bound, but an endless run of zeros is not a chunk size.
    static let maxChunkSizeDigits = 16

    /// RFC 9112 §2.2 asks servers to ignore "at least one" empty line before a request line;
    /// a few are tolerated, an endless stream of them is not a request.
    static let maxLeadingEmptyLines = 8

    private var state = State.head

    // Head scanning; offsets are relative to the first unconsumed byte.
    private var scanOffset = 0  // start of the first line not yet processed
    private var searchOffset = 0  // bytes already searched for LF (no LF before here past scanOffset)
    private var headersStart = -1  // offset of the header section, -1 until the request line is parsed
    private var emptyLinesSkipped = 0

    // Request line.
    private var method = HTTPRequest.Method.get
    private var version = HTTPVersion.http1_1
    private var target = ""
    private var rawPath: Substring = ""
    private var path = ""
    private var rawQuery: String?
    private var query = QueryParameters()

    // Header section.
    private var fields = HTTPFields()
    private var fieldCount = 0
    private var contentLength: Int?
    private var transferCodings: [String]?
    private var hostCount = 0
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectsContinue = false
    private var unsupportedExpectation = false
    private var keepAlive = true

    // Body.
    private var body: [UInt8] = []
    private var remaining = 0
    private var chunkState = ChunkState.size
    private var chunkSize = 0
    private var chunkSizeDigits = 0
    private var chunkExtensionLength = 0
    private var trailerBytes = 0

    init() {}

    /// True between requests: nothing of the next request has been seen. (The caller must also
    /// hold no retained bytes for the connection to be idle.)
    var isAtMessageBoundary: Bool {
        if case .head = state { return headersStart < 0 && searchOffset == 0 && emptyLinesSkipped == 0 }
        return false
    }

    /// True while a body is being received.
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunked: return true
        default: return false
        }
    }

    /// The method of the request being received (valid once its request line was parsed; used
    /// to route a request before reading its body for `Expect: 100-continue`).
    var currentMethod: HTTPRequest.Method { method }
    /// The raw path of the request being received (see ``currentMethod``).
    var currentRawPath: Substring { rawPath }
    /// The header fields received so far for the current request.
    var currentHeaderFields: HTTPFields { fields }

    /// Parses from the start of `input` (all bytes not yet consumed) and returns the next event.
    mutating func parse(_ input: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> (event: Event, consumed: Int) {
        var consumed = 0
        while true {
            switch state {
            case .failed(let error):
                return (.error(error), consumed)

            case .head:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                let (outcome, used) = parseHead(rest, limits: limits)
                consumed += used
                switch outcome {
                case .incomplete:
                    return (.needMoreData, consumed)
                case .failed(let reason):
                    return (.error(fail(reason)), consumed)
                case .complete(let expectContinue):
                    if case .head = state {
                        return (.request(finishMessage()), consumed)  // no body
                    }
                    if expectContinue {
                        return (.expectContinue, consumed)
                    }
                }

            case .fixedBody:
                let count = min(remaining, input.count - consumed)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + count)]))
                consumed += count
                remaining -= count
                if remaining == 0 {
                    return (.request(finishMessage()), consumed)
                }
                return (.needMoreData, consumed)

            case .chunked:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                let (outcome, used) = parseChunked(rest, limits: limits)
                consumed += used
                switch outcome {
                case .incomplete:
                    return (.needMoreData, consumed)
                case .failed(let reason):
                    return (.error(fail(reason)), consumed)
                case .complete:
                    return (.request(finishMessage()), consumed)
                }
            }
        }
    }

    private mutating func fail(_ reason: HTTPParseError.Reason) -> HTTPParseError {
        let error = HTTPParseError(reason)
        state = .failed(error)
        body = []
        fields = HTTPFields()
        return error
    }

    // MARK: - Head

    private enum HeadOutcome {
        case incomplete
        case complete(expectContinue: Bool)
        case failed(HTTPParseError.Reason)
    }

    private mutating func parseHead(_ input: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> (HeadOutcome, Int) {
        var skipped = 0
        if headersStart < 0 && searchOffset == 0 {
            // RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line
            // SHOULD ignore at least one empty line (CRLF) received prior to the request-line".
            while skipped < input.count && input[skipped] == ASCII.cr {
                guard skipped + 1 < input.count else { return (.incomplete, skipped) }
                guard input[skipped + 1] == ASCII.lf else { break }  // bare CR: invalid request line below
                skipped += 2
                emptyLinesSkipped += 1
                if emptyLinesSkipped > Self.maxLeadingEmptyLines { return (.failed(.tooManyEmptyLines), skipped) }
            }
        }
        let buffer = UnsafeRawBufferPointer(rebasing: input[skipped...])

        while true {
            let searchStart = max(searchOffset, scanOffset)
            guard let lf = Self.findLF(buffer, from: searchStart) else {
                searchOffset = buffer.count
                // Limits apply to bytes not yet terminated too, so an endless line is cut off
                // at the limit rather than buffered. The same thresholds are applied to
                // complete lines below, so the status does not depend on the byte split.
                if headersStart < 0 {
                    if buffer.count - scanOffset > limits.maxRequestLineLength + 1 {
                        return (.failed(.requestLineTooLong), skipped)
                    }
                } else if buffer.count - headersStart > limits.maxHeaderBytes {
                    return (.failed(.headerSectionTooLarge), skipped)
                }
                return (.incomplete, skipped)
            }
            let line = UnsafeRawBufferPointer(rebasing: buffer[scanOffset..<lf])
            if headersStart < 0 {
                // RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF.
                // RFC 9112 §3 (end): a server that receives a request-target longer than any
                // URI it wishes to parse MUST respond with 414.
                if line.count > limits.maxRequestLineLength + 1 { return (.failed(.requestLineTooLong), skipped) }
                // RFC 9112 §2.2: a bare LF may be accepted as a line terminator; we do not.
                guard line.last == ASCII.cr else { return (.failed(.bareLF), skipped) }
                if let reason = parseRequestLine(UnsafeRawBufferPointer(rebasing: line.dropLast())) {
                    return (.failed(reason), skipped)
                }
                headersStart = lf + 1
            } else {
                // RFC 6585 §5: 431 when the header fields are too large.
                if lf + 1 - headersStart > limits.maxHeaderBytes { return (.failed(.headerSectionTooLarge), skipped) }
                guard line.last == ASCII.cr else { return (.failed(.bareLF), skipped) }
                let content = UnsafeRawBufferPointer(rebasing: line.dropLast())
                if content.isEmpty {
                    let outcome = finishHead(limits: limits)
                    if case .complete = outcome {
                        scanOffset = 0
                        searchOffset = 0
                        headersStart = -1
                    }
                    return (outcome, skipped + lf + 1)
                }
                if let reason = parseFieldLine(content, limits: limits) { return (.failed(reason), skipped) }
            }
            scanOffset = lf + 1
        }
    }

    private static func findLF(_ buffer: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < buffer.count, let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(ASCII.lf), buffer.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    private mutating func parseRequestLine(_ line: UnsafeRawBufferPointer) -> HTTPParseError.Reason? {
        guard let firstSpace = line.firstIndex(of: ASCII.space) else { return .invalidRequestLine }
        let methodBytes = UnsafeRawBufferPointer(rebasing: line[..<firstSpace])
        // RFC 9112 §3.1: method = token (RFC 9110 §9.1).
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(ASCII.isTokenChar) else { return .invalidMethod }
        let afterMethod = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)...])
        // RFC 9112 §3: exactly one SP between the parts; a request-target never contains
        // whitespace (RFC 9112 §3.2), so a second SP must precede the version.
        guard let secondSpace = afterMethod.firstIndex(of: ASCII.space) else { return .invalidRequestLine }
        let targetBytes = UnsafeRawBufferPointer(rebasing: afterMethod[..<secondSpace])
        let versionBytes = UnsafeRawBufferPointer(rebasing: afterMethod[(secondSpace + 1)...])

        method = Self.makeMethod(methodBytes)
        if let reason = parseTarget(targetBytes) { return reason }

        // RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP"
        // (case-sensitive). Anything else is malformed (400).
        guard versionBytes.count == 8,
              versionBytes[0] == 0x48, versionBytes[1] == 0x54, versionBytes[2] == 0x54, versionBytes[3] == 0x50,
              versionBytes[4] == ASCII.slash, ASCII.isDigit(versionBytes[5]), versionBytes[6] == 0x2E,
              ASCII.isDigit(versionBytes[7])
        else { return .invalidVersion }
        let major = Int(versionBytes[5] - 0x30)
        let minor = Int(versionBytes[7] - 0x30)
        // RFC 9110 §15.6.6: 505 for a major version we do not support. RFC 9110 §6.2 would let
        // us treat 1.2+ as 1.1; we answer 505 instead so clients never assume features we lack.
        guard major == 1, minor <= 1 else { return .unsupportedVersion }
        version = minor == 0 ? .http1_0 : .http1_1
        return nil
    }

    private static func makeMethod(_ bytes: UnsafeRawBufferPointer) -> HTTPRequest.Method {
        // Methods are case-sensitive (RFC 9110 §9.1); the common ones reuse static strings.
        switch bytes.count {
        case 3:
            if bytes.elementsEqual("GET".utf8) { return .get }
            if bytes.elementsEqual("PUT".utf8) { return .put }
        case 4:
            if bytes.elementsEqual("POST".utf8) { return .post }
            if bytes.elementsEqual("HEAD".utf8) { return .head }
        case 5:
            if bytes.elementsEqual("PATCH".utf8) { return .patch }
            if bytes.elementsEqual("TRACE".utf8) { return .trace }
        case 6:
            if bytes.elementsEqual("DELETE".utf8) { return .delete }
        case 7:
            if bytes.elementsEqual("OPTIONS".utf8) { return .options }
            if bytes.elementsEqual("CONNECT".utf8) { return .connect }
        default:
            break
        }
        // Already validated as a token, which is exactly what HTTPRequest.Method accepts.
        return HTTPRequest.Method(String(decoding: bytes, as: UTF8.self))!
    }

    /// RFC 9112 §3.2: origin-form (`/path?query`), absolute-form (`http://host/path`, which a
    /// server MUST accept, §3.2.2) and asterisk-form (`*`, OPTIONS only, §3.2.4). Authority-form
    /// is only for CONNECT, which this server does not implement, so it is rejected as invalid.
    private mutating func parseTarget(_ bytes: UnsafeRawBufferPointer) -> HTTPParseError.Reason? {
        guard !bytes.isEmpty else { return .invalidTarget }
        var pathStart = 0
        if bytes[0] == ASCII.slash {
            pathStart = 0
        } else if bytes.count == 1 && bytes[0] == 0x2A {
            guard method == .options else { return .invalidTarget }
            target = "*"
            rawPath = target[...]
            path = target
            return nil
        } else {
            // absolute-form: "http://" or "https://" (scheme case-insensitive, RFC 3986 §3.1),
            // then an authority up to the path. Its host replaces Host (RFC 9112 §3.2.2).
            let schemeLength: Int
            if bytes.count >= 7, ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<7]), "http://") {
                schemeLength = 7
            } else if bytes.count >= 8, ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<8]), "https://") {
                schemeLength = 8
            } else {
                return .invalidTarget
            }
            var index = schemeLength
            while index < bytes.count && bytes[index] != ASCII.slash && bytes[index] != ASCII.question {
                // RFC 9110 §4.2.4: userinfo ("@") is invalid in http(s) URIs.
                guard ASCII.isAuthorityChar(bytes[index]) else { return .invalidTarget }
                index += 1
            }
            guard index > schemeLength else { return .invalidTarget }  // empty host: RFC 9110 §4.2.1
            pathStart = index
        }

        var queryStart = bytes.count  // index of "?" or end
        var pathHasEscape = false
        var index = pathStart
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.question {
                queryStart = index
                break
            }
            if byte == ASCII.percent {
                guard index + 2 < bytes.count, ASCII.hexValue(bytes[index + 1]) != nil,
                      ASCII.hexValue(bytes[index + 2]) != nil
                else { return .invalidPercentEncoding }
                pathHasEscape = true
                index += 3
                continue
            }
            guard ASCII.isPathChar(byte) else { return .invalidTarget }
            index += 1
        }
        index = queryStart + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count, ASCII.hexValue(bytes[index + 1]) != nil,
                      ASCII.hexValue(bytes[index + 2]) != nil
                else { return .invalidPercentEncoding }
                index += 3
                continue
            }
            // "#" (a fragment) is never sent in a request-target (RFC 9112 §3.2).
            guard ASCII.isQueryChar(byte) else { return .invalidTarget }
            index += 1
        }

        // All bytes are ASCII now, so UTF-8 offsets equal character offsets.
        target = String(decoding: bytes, as: UTF8.self)
        if pathStart == 0 && queryStart == bytes.count {
            rawPath = target[...]  // the common case: the whole target is the path
        } else if pathStart == queryStart {
            rawPath = "/"
        } else {
            let utf8 = target.utf8
            let lower = utf8.index(utf8.startIndex, offsetBy: pathStart)
            let upper = utf8.index(lower, offsetBy: queryStart - pathStart)
            rawPath = target[lower..<upper]
        }
        if !pathHasEscape {
            path = pathStart == 0 && queryStart == bytes.count ? target : (rawPath.isEmpty ? "/" : String(rawPath))
        } else {
            switch PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: bytes[pathStart..<queryStart])) {
            case .success(let decoded): path = decoded.isEmpty ? "/" : decoded
            case .failure(let failure): return Self.reason(for: failure)
            }
        }
        if queryStart < bytes.count {
            let queryBytes = UnsafeRawBufferPointer(rebasing: bytes[(queryStart + 1)...])
            rawQuery = String(decoding: queryBytes, as: UTF8.self)
            switch PercentDecoding.parseQuery(queryBytes) {
            case .success(let parameters): query = parameters
            case .failure(let failure): return Self.reason(for: failure)
            }
        }
        return nil
    }

    private static func reason(for failure: PercentDecoding.Failure) -> HTTPParseError.Reason {
        switch failure {
        case .invalidEscape: return .invalidPercentEncoding
        case .encodedNUL: return .encodedNUL
        case .invalidUTF8: return .invalidUTF8
        }
    }

    private mutating func parseFieldLine(_ line: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> HTTPParseError.Reason? {
        fieldCount += 1
        if fieldCount > limits.maxHeaderCount { return .tooManyHeaders }
        // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected with 400; this
        // also covers whitespace between the start-line and the first field (§2.2).
        if ASCII.isWhitespace(line[0]) { return .obsFold }
        guard let colon = line.firstIndex(of: ASCII.colon) else { return .invalidFieldLine }
        let nameBytes = UnsafeRawBufferPointer(rebasing: line[..<colon])
        guard !nameBytes.isEmpty else { return .invalidFieldName }
        // RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
        // Request), any received request message that contains whitespace between a header
        // field name and colon."
        if ASCII.isWhitespace(nameBytes[nameBytes.count - 1]) { return .whitespaceBeforeColon }
        // RFC 9110 §5.1: field-name = token.
        guard nameBytes.allSatisfy(ASCII.isTokenChar) else { return .invalidFieldName }
        // RFC 9112 §5.1: OWS around the value is not part of it.
        let value = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        // RFC 9110 §5.5: field values never contain CR, LF or NUL; other controls are invalid
        // too. Rejecting (rather than replacing) keeps us in agreement with strict proxies.
        var isASCII = true
        for byte in value {
            guard ASCII.isFieldValueChar(byte) else { return .invalidFieldValue }
            if byte >= 0x80 { isASCII = false }
        }

        let name: HTTPField.Name
        let role: KnownFieldNames.Role
        if let known = KnownFieldNames.lookup(nameBytes) {
            (name, role) = known
        } else {
            guard let made = HTTPField.Name(String(decoding: nameBytes, as: UTF8.self)) else { return .invalidFieldName }
            (name, role) = (made, .plain)
        }

        switch role {
        case .plain:
            break
        case .contentLength:
            if let reason = recordContentLength(value) { return reason }
        case .transferEncoding:
            recordTransferEncoding(value)
        case .host:
            // RFC 9112 §3.2: 400 for "more than one Host header field line or a Host header
            // field with an invalid field value".
            hostCount += 1
            if hostCount > 1 { return .duplicateHost }
            guard value.allSatisfy(ASCII.isAuthorityChar) else { return .invalidHost }
        case .connection:
            // RFC 9110 §7.6.1: Connection = #connection-option, case-insensitive tokens.
            Self.forEachListMember(value) { member in
                if ASCII.equalsIgnoringCase(member, "close") { connectionClose = true }
                if ASCII.equalsIgnoringCase(member, "keep-alive") { connectionKeepAlive = true }
            }
        case .expect:
            // RFC 9110 §10.1.1: the only expectation defined is "100-continue" (case-insensitive).
            Self.forEachListMember(value) { member in
                if ASCII.equalsIgnoringCase(member, "100-continue") {
                    expectsContinue = true
                } else {
                    unsupportedExpectation = true
                }
            }
        }
        // ASCII values (nearly all) become Strings directly; obs-text keeps its raw bytes.
        fields.append(isASCII ? HTTPField(name: name, value: String(decoding: value, as: UTF8.self)) : HTTPField(name: name, value: value))
        return nil
    }

    /// RFC 9110 §8.6 / RFC 9112 §6.3 item 5: Content-Length = 1*DIGIT. A list (from combined
    /// lines) is accepted only when every member is the same valid number; signs, spaces inside,
    /// empty members, differing values or a value beyond 2^63 are "invalid Content-Length":
    /// 400 and close, because two parties disagreeing about the length is how requests are
    /// smuggled.
    private mutating func recordContentLength(_ value: UnsafeRawBufferPointer) -> HTTPParseError.Reason? {
        var failure: HTTPParseError.Reason?
        var memberCount = 0
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != ASCII.comma { end += 1 }
            let member = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            memberCount += 1
            guard !member.isEmpty else { return .invalidContentLength }
            var number = 0
            for byte in member {
                guard ASCII.isDigit(byte) else { return .invalidContentLength }
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
                guard !overflow1 && !overflow2 else { return .invalidContentLength }
                number = sum
            }
            if let existing = contentLength, existing != number {
                failure = .conflictingContentLength
                break
            }
            contentLength = number
            start = end + 1
        }
        return failure
    }

    /// RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; codings are case-insensitive
    /// (§7). Lines accumulate; the list is judged when the head is complete.
    private mutating func recordTransferEncoding(_ value: UnsafeRawBufferPointer) {
        var codings = transferCodings ?? []
        Self.forEachListMember(value) { member in
            codings.append(String(decoding: member.map(ASCII.lowercased), as: UTF8.self))
        }
        transferCodings = codings
    }

    /// Calls `body` with each non-empty, trimmed member of a comma-separated list
    /// (RFC 9110 §5.6.1: recipients ignore empty members).
    private static func forEachListMember(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != ASCII.comma { end += 1 }
            let member = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            if !member.isEmpty { body(member) }
            start = end + 1
        }
    }

    private mutating func finishHead(limits: HTTPServer.Limits) -> HeadOutcome {
        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
        // HTTP/1.1 request message that lacks a Host header field".
        if version == .http1_1 && hostCount == 0 { return .failed(.missingHost) }

        var hasBody = false
        if let codings = transferCodings {
            // RFC 9112 §6.3 item 3: Transfer-Encoding with Content-Length "ought to be handled
            // as an error" (smuggling); §6.1: a server MAY reject it — we do, and close.
            if contentLength != nil { return .failed(.contentLengthWithTransferEncoding) }
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is
            // faulty; the connection must close. We reject it outright.
            if version == .http1_0 { return .failed(.transferEncodingInHTTP10) }
            // RFC 9112 §6.3 item 4: "If a Transfer-Encoding header field is present in a
            // request and the chunked transfer coding is not the final encoding, the message
            // body length cannot be determined reliably; the server MUST respond with the 400
            // (Bad Request) status code and then close the connection." (Also an empty list.)
            guard codings.last == "chunked" else { return .failed(.chunkedNotFinal) }
            // RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
            if codings.dropLast().contains("chunked") { return .failed(.chunkedAppliedTwice) }
            // RFC 9112 §6.1: "A server that receives a request message with a transfer coding
            // it does not understand SHOULD respond with 501 (Not Implemented)." We decode no
            // coding but chunked (gzip etc. included): 501, then close.
            if codings.count > 1 { return .failed(.unsupportedTransferCoding) }
            state = .chunked
            chunkState = .size
            hasBody = true
        } else if let length = contentLength, length > 0 {
            // RFC 9110 §15.5.14: 413 — decided from the declared length, before reading the body.
            if length > limits.maxBodyBytes { return .failed(.bodyTooLarge) }
            state = .fixedBody
            remaining = length
            // Grow with the data rather than trusting the declared length with memory.
            body.reserveCapacity(min(length, 16 * 1024))
            hasBody = true
        }
        // RFC 9110 §10.1.1: a server MAY answer 417 to an expectation it does not support.
        if unsupportedExpectation { return .failed(.unsupportedExpectation) }

        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        keepAlive = version == .http1_1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        // RFC 9110 §10.1.1: ignore 100-continue in HTTP/1.0; no interim response is needed
        // when there is no body to wait for.
        return .complete(expectContinue: expectsContinue && version == .http1_1 && hasBody)
    }

    // MARK: - Chunked body (RFC 9112 §7.1)

    private enum ChunkOutcome {
        case incomplete
        case complete
        case failed(HTTPParseError.Reason)
    }

    // chunked-body = *chunk last-chunk trailer-section CRLF
    // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    private mutating func parseChunked(_ input: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> (ChunkOutcome, Int) {
        var index = 0
        while index < input.count {
            if case .data = chunkState {
                let count = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + count)]))
                index += count
                remaining -= count
                if remaining == 0 { chunkState = .dataCR }
                continue
            }
            let byte = input[index]
            index += 1
            switch chunkState {
            case .size:
                if let digit = ASCII.hexValue(byte) {
                    chunkSize = chunkSize &* 16 &+ digit
                    chunkSizeDigits += 1
                    if chunkSizeDigits > Self.maxChunkSizeDigits { return (.failed(.invalidChunkSize), index) }
                    // The size is checked digit by digit, so it can never overflow: the budget
                    // is far below Int.max / 16.
                    if chunkSize > limits.maxBodyBytes - body.count { return (.failed(.bodyTooLarge), index) }
                } else if chunkSizeDigits > 0 && ASCII.isWhitespace(byte) {
                    chunkState = .sizeWhitespace
                    chunkExtensionLength += 1
                } else if chunkSizeDigits > 0 && byte == ASCII.semicolon {
                    chunkState = .extensionBeforeName
                } else if chunkSizeDigits > 0 && byte == ASCII.cr {
                    chunkState = .sizeLF
                } else {
                    return (.failed(.invalidChunkSize), index)
                }
            case .sizeWhitespace:
                // chunk = chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" ... ): whitespace
                // after the size is the BWS of an extension, so a ";" must follow. "5 \r\n" is
                // not a chunk-size line (one more way for two parsers to disagree on framing).
                chunkExtensionLength += 1
                if chunkExtensionLength > limits.maxChunkExtensionLength {
                    return (.failed(.chunkExtensionTooLong), index)
                }
                if ASCII.isWhitespace(byte) {
                } else if byte == ASCII.semicolon {
                    chunkState = .extensionBeforeName
                } else {
                    return (.failed(.invalidChunkSize), index)
                }
            case .extensionBeforeName, .extensionName, .extensionAfterName, .extensionBeforeValue,
                 .extensionToken, .extensionQuoted, .extensionQuotedPair, .extensionQuotedEnd, .extensionAfterValue:
                // Extensions are ignored (RFC 9112 §7.1.1: "A recipient MUST ignore
                // unrecognized chunk extensions"), but they must be well-formed and bounded.
                if byte == ASCII.cr, chunkState.endsChunkExtension {
                    chunkState = .sizeLF
                    continue
                }
                chunkExtensionLength += 1
                if chunkExtensionLength > limits.maxChunkExtensionLength {
                    return (.failed(.chunkExtensionTooLong), index)
                }
                guard let next = Self.chunkExtensionTransition(chunkState, byte) else {
                    return (.failed(.invalidChunkExtension), index)
                }
                chunkState = next
            case .sizeLF:
                guard byte == ASCII.lf else { return (.failed(.invalidChunk), index) }
                if chunkSize == 0 {
                    chunkState = .trailerLineStart  // last-chunk
                } else {
                    remaining = chunkSize
                    chunkState = .data
                }
                chunkSize = 0
                chunkSizeDigits = 0
                chunkExtensionLength = 0
            case .data:
                break  // handled above
            case .dataCR:
                guard byte == ASCII.cr else { return (.failed(.invalidChunk), index) }
                chunkState = .dataLF
            case .dataLF:
                guard byte == ASCII.lf else { return (.failed(.invalidChunk), index) }
                chunkState = .size
            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
                // RFC 9112 §7.1.2: trailer fields are parsed as field lines; we validate and
                // discard them (none is meaningful to this server), within a size limit.
                trailerBytes += 1
                if trailerBytes > limits.maxTrailerBytes { return (.failed(.trailerSectionTooLarge), index) }
                switch chunkState {
                case .trailerLineStart:
                    if byte == ASCII.cr {
                        chunkState = .finalLF
                    } else if ASCII.isTokenChar(byte) {
                        chunkState = .trailerName
                    } else {
                        // Includes obs-fold (leading whitespace, RFC 9112 §5.2) and bare LF.
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerName:
                    if byte == ASCII.colon {
                        chunkState = .trailerValue
                    } else if !ASCII.isTokenChar(byte) {
                        // Includes whitespace before the colon (RFC 9112 §5.1).
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerValue:
                    if byte == ASCII.cr {
                        chunkState = .trailerLF
                    } else if !ASCII.isFieldValueChar(byte) {
                        return (.failed(.invalidTrailer), index)
                    }
                case .trailerLF:
                    guard byte == ASCII.lf else { return (.failed(.invalidTrailer), index) }
                    chunkState = .trailerLineStart
                case .finalLF:
                    guard byte == ASCII.lf else { return (.failed(.invalidTrailer), index) }
                    return (.complete, index)
                default:
                    break
                }
            }
        }
        return (.incomplete, index)
    }

    /// One step of the chunk-ext grammar (RFC 9112 §7.1.1), CR excluded:
    ///
    ///     chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    ///     chunk-ext-name = token
    ///     chunk-ext-val  = token / quoted-string
    ///     quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE          (RFC 9110 §5.6.4)
    ///     qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    ///     quoted-pair    = "\\" ( HTAB / SP / VCHAR / obs-text )
    ///
    /// Returns the next state, or nil when the byte cannot continue the extension. Bare CR,
    /// LF, NUL and other controls are never valid here.
    private static func chunkExtensionTransition(_ state: ChunkState, _ byte: UInt8) -> ChunkState? {
        let whitespace = ASCII.isWhitespace(byte)
        let token = ASCII.isTokenChar(byte)
        switch state {
        case .extensionBeforeName:
            if whitespace { return state }
            return token ? .extensionName : nil
        case .extensionName:
            if token { return state }
            if whitespace { return .extensionAfterName }
            if byte == ASCII.equals { return .extensionBeforeValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionAfterName:
            if whitespace { return state }
            if byte == ASCII.equals { return .extensionBeforeValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionBeforeValue:
            if whitespace { return state }
            if byte == ASCII.doubleQuote { return .extensionQuoted }
            return token ? .extensionToken : nil
        case .extensionToken:
            if token { return state }
            if whitespace { return .extensionAfterValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionQuoted:
            if byte == ASCII.doubleQuote { return .extensionQuotedEnd }
            if byte == ASCII.backslash { return .extensionQuotedPair }
            return ASCII.isFieldValueChar(byte) ? state : nil  // the rest of qdtext
        case .extensionQuotedPair:
            return ASCII.isFieldValueChar(byte) ? .extensionQuoted : nil
        case .extensionQuotedEnd:
            if whitespace { return .extensionAfterValue }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        case .extensionAfterValue:
            if whitespace { return state }
            return byte == ASCII.semicolon ? .extensionBeforeName : nil
        default:
            return nil
        }
    }

    // MARK: - Completion

    private mutating func finishMessage() -> ParsedRequest {
        let request = Request(
            method: method, target: target, rawPath: rawPath, path: path, rawQuery: rawQuery, query: query,
            headerFields: fields, body: body, version: version)
        let parsed = ParsedRequest(request: request, keepAlive: keepAlive)
        self = HTTPRequestParser()
        return parsed
    }
}
