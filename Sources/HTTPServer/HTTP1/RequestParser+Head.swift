import Glibc
import HTTPTypes

/// The head of a request: finding its lines, the request line (RFC 9112 §3), and judging the
/// complete header section (framing, Host, expectations, persistence).
extension HTTPRequestParser {
    enum HeadOutcome {
        case incomplete
        case complete(expectContinue: Bool)
        case failed(HTTPParseError.Reason)
    }

    mutating func parseHead(_ input: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> (HeadOutcome, Int) {
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
        if let reason = requestTarget.parse(targetBytes, method: method) { return reason }

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

    mutating func finishHead(limits: HTTPServer.Limits) -> HeadOutcome {
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
            chunked = ChunkedBodyDecoder()
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
}
