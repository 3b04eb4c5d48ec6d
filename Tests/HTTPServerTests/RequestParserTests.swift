import Foundation
import HTTPTypes
import Testing
@testable import HTTPServer

/// Parser rules, each fed whole, split at every byte boundary, and one byte at a time.
@Suite("Request parser")
struct RequestParserTests {
    /// Parses `input` (every split) and returns the single request it must contain.
    private func request(
        _ input: String, limits: HTTPServer.Limits = HTTPServer.Limits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ParsedSummary? {
        let outcomes = ParserHarness.parseEverySplit(input, limits: limits, sourceLocation: sourceLocation)
        guard outcomes.count == 1, case .request(let summary) = outcomes[0] else {
            Issue.record("expected one request, got \(outcomes)", sourceLocation: sourceLocation)
            return nil
        }
        return summary
    }

    /// Parses `input` (every split) and expects it to end in `reason` with `status`.
    private func rejects(
        _ input: String, _ reason: HTTPParseError.Reason, status: Int, limits: HTTPServer.Limits = HTTPServer.Limits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        rejects(Array(input.utf8), reason, status: status, limits: limits, sourceLocation: sourceLocation)
    }

    private func rejects(
        _ input: [UInt8], _ reason: HTTPParseError.Reason, status: Int, limits: HTTPServer.Limits = HTTPServer.Limits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let outcomes = ParserHarness.parseEverySplit(input, limits: limits, sourceLocation: sourceLocation)
        #expect(outcomes.last == .error(reason, status: status), "outcomes: \(outcomes)", sourceLocation: sourceLocation)
    }

    // MARK: - Valid requests

    @Test func simpleGet() {
        let summary = request("GET /hello HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n")
        #expect(summary?.method == "GET")
        #expect(summary?.target == "/hello")
        #expect(summary?.path == "/hello")
        #expect(summary?.headers == ["Host: example.com", "User-Agent: t"])
        #expect(summary?.version == .http1_1)
        #expect(summary?.keepAlive == true)
        #expect(summary?.body == [])
    }

    @Test func headerNamesAreCaseInsensitiveAndValuesTrimmed() {
        let summary = request("GET / HTTP/1.1\r\nhOsT: a\r\nX-Custom-Thing: \t value with  spaces \t\r\n\r\n")
        #expect(summary?.headers == ["Host: a", "X-Custom-Thing: value with  spaces"])
    }

    @Test func obsTextIsAllowedInValues() {
        let input: [UInt8] = Array("GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        let outcomes = ParserHarness.parseEverySplit(input)
        guard case .request = outcomes.first else {
            Issue.record("expected a request, got \(outcomes)")
            return
        }
    }

    @Test func connectionCloseEndsKeepAlive() {
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n")?.keepAlive == false)
        // Only OWS around a member is trimmed: "clo\tse" is another option (a fuzz finding in the checker).
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-,,Clo\tse\r\n\r\n")?.keepAlive == true)
    }

    @Test func http10KeepsAliveOnlyWhenAsked() {
        let plain = request("GET / HTTP/1.0\r\n\r\n")
        #expect(plain?.version == .http1_0)
        #expect(plain?.keepAlive == false)
        #expect(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.keepAlive == true)
    }

    @Test func contentLengthBody() {
        let summary = request("POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(summary?.method == "POST")
        #expect(summary?.body == Array("hello world".utf8))
    }

    @Test func zeroContentLength() {
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")?.body == [])
    }

    @Test func identicalContentLengthValuesAreAccepted() {
        // RFC 9110 §8.6: a list of identical values may be treated as one.
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc")?.body == Array("abc".utf8))
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")?.body == Array("abc".utf8))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let input = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "6 ; ext\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nTrailer-One: x\r\nTrailer-Two: y\r\n\r\n"
        let summary = request(input)
        #expect(summary?.body == Array("hello world0123456789".utf8))
        #expect(summary?.keepAlive == true)
    }

    @Test func chunkedCodingNameIsCaseInsensitive() {
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n")?.body == [])
    }

    @Test func pipelinedRequests() {
        let input = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\nHost: a\r\n\r\n"
        let outcomes = ParserHarness.parseEverySplit(input)
        let targets: [String] = outcomes.compactMap { if case .request(let s) = $0 { return s.target } else { return nil } }
        #expect(targets == ["/a", "/b", "/c"])
        #expect(outcomes.count == 3)
    }

    @Test func leadingEmptyLinesAreIgnored() {
        // RFC 9112 §2.2.
        #expect(request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")?.target == "/")
    }

    @Test func tooManyLeadingEmptyLinesAreRejected() {
        rejects(String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .tooManyEmptyLines, status: 400)
    }

    @Test func percentDecodedPathAndQuery() {
        let summary = request("GET /files/a%20b%2Fc?q=caf%C3%A9+au+lait&flag&x=1&x=2&&empty= HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(summary?.path == "/files/a b/c")
        #expect(summary?.rawPath == "/files/a%20b%2Fc")
        #expect(summary?.rawQuery == "q=caf%C3%A9+au+lait&flag&x=1&x=2&&empty=")
        #expect(summary?.query == [
            .init(name: "q", value: "café au lait"), .init(name: "flag", value: ""), .init(name: "x", value: "1"),
            .init(name: "x", value: "2"), .init(name: "empty", value: ""),
        ])
    }

    @Test func absoluteFormTarget() {
        // RFC 9112 §3.2.2: a server MUST accept the absolute-form.
        let summary = request("GET http://Example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(summary?.path == "/a/b")
        #expect(summary?.rawQuery == "x=1")
        #expect(request("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n")?.path == "/")
    }

    @Test func asteriskFormForOptions() {
        #expect(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")?.path == "*")
    }

    @Test func extensionMethodsAreTokens() {
        #expect(request("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n")?.method == "PURGE")
    }

    @Test func emptyHostIsAllowed() {
        // RFC 9112 §3.2: Host may be empty when the target URI has no authority.
        #expect(request("GET / HTTP/1.1\r\nHost:\r\n\r\n")?.headers == ["Host: "])
    }

    @Test func expectContinueIsReportedBeforeTheBody() {
        let input = "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody"
        let outcomes = ParserHarness.parseEverySplit(input)
        #expect(outcomes.count == 2)
        #expect(outcomes.first == .expectContinue)
        guard case .request(let summary) = outcomes.last else {
            Issue.record("no request: \(outcomes)")
            return
        }
        #expect(summary.body == Array("body".utf8))
    }

    @Test func expectContinueWithoutBodyOrInHTTP10IsNotReported() {
        // No body to wait for; and RFC 9110 §10.1.1: ignore 100-continue in HTTP/1.0.
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n") != nil)
        #expect(request("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")?.body == [0x78])
    }

    @Test func incompleteInputIsNotAnError() {
        #expect(ParserHarness.run([Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)]) == [.incomplete])
        #expect(ParserHarness.run([Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab".utf8)]) == [.incomplete])
    }

    // MARK: - Request line

    @Test func bareLFIsRejected() {
        rejects("GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLF, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLF, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF, status: 400)
        rejects("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLF, status: 400)
    }

    @Test func invalidMethodToken() {
        rejects("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod, status: 400)
        rejects(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod, status: 400)
    }

    @Test func malformedRequestLines() {
        rejects("GET\r\nHost: a\r\n\r\n", .invalidRequestLine, status: 400)
        rejects("GET /\r\nHost: a\r\n\r\n", .invalidRequestLine, status: 400)  // HTTP/0.9 style
        rejects("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion, status: 400)
        rejects("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidVersion, status: 400)
        rejects("GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", .invalidVersion, status: 400)  // bare CR
    }

    @Test func invalidRequestTargets() {
        rejects("GET /a\u{01}b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET http://user@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget, status: 400)
        rejects(Array("GET /caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8), .invalidTarget, status: 400)
    }

    @Test func percentEncodingErrors() {
        rejects("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", .invalidPercentEncoding, status: 400)
        rejects("GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidPercentEncoding, status: 400)
        rejects("GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", .encodedNUL, status: 400)
        rejects("GET /a%FF HTTP/1.1\r\nHost: a\r\n\r\n", .invalidUTF8, status: 400)
        rejects("GET /a?x=%G1 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidPercentEncoding, status: 400)
        rejects("GET /a?x=%00 HTTP/1.1\r\nHost: a\r\n\r\n", .encodedNUL, status: 400)
        rejects("GET /a?x=%C3 HTTP/1.1\r\nHost: a\r\n\r\n", .invalidUTF8, status: 400)
    }

    @Test func versions() {
        rejects("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion, status: 505)
        rejects("GET / HTTP/1.2\r\nHost: a\r\n\r\n", .unsupportedVersion, status: 505)
        rejects("GET / HTTP/0.9\r\nHost: a\r\n\r\n", .unsupportedVersion, status: 505)
        rejects("GET / http/1.1\r\nHost: a\r\n\r\n", .invalidVersion, status: 400)
        rejects("GET / HTTP/1.10\r\nHost: a\r\n\r\n", .invalidVersion, status: 400)
        rejects("GET / HTTP/1\r\nHost: a\r\n\r\n", .invalidVersion, status: 400)
    }

    @Test func requestLineLimit() {
        let limits = HTTPServer.Limits(maxRequestLineLength: 32)
        let fits = "GET /" + String(repeating: "a", count: 18) + " HTTP/1.1"  // exactly 32
        #expect(fits.utf8.count == 32)
        #expect(request(fits + "\r\nHost: a\r\n\r\n", limits: limits) != nil)
        rejects("GET /" + String(repeating: "a", count: 19) + " HTTP/1.1\r\nHost: a\r\n\r\n", .requestLineTooLong, status: 414, limits: limits)
        // An endless line is cut off at the limit, without waiting for its end.
        rejects("GET /" + String(repeating: "a", count: 100), .requestLineTooLong, status: 414, limits: limits)
    }

    // MARK: - Header section

    @Test func headerSectionLimit() {
        let limits = HTTPServer.Limits(maxHeaderBytes: 30)
        // "Host: a\r\n" (9) + "X-A: 0123456789ab\r\n" (19) + "\r\n" (2) = 30
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nX-A: 0123456789ab\r\n\r\n", limits: limits) != nil)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: 0123456789abc\r\n\r\n", .headerSectionTooLarge, status: 431, limits: limits)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: " + String(repeating: "v", count: 100), .headerSectionTooLarge, status: 431, limits: limits)
    }

    @Test func headerCountLimit() {
        let limits = HTTPServer.Limits(maxHeaderCount: 3)
        #expect(request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits: limits) != nil)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", .tooManyHeaders, status: 431, limits: limits)
    }

    @Test func obsFoldIsRejected() {
        // RFC 9112 §5.2.
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", .obsFold, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", .obsFold, status: 400)
        // RFC 9112 §2.2: whitespace between the start-line and the first field.
        rejects("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .obsFold, status: 400)
    }

    @Test func whitespaceBeforeColonIsRejected() {
        // RFC 9112 §5.1.
        rejects("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .whitespaceBeforeColon, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 0\r\n\r\n", .whitespaceBeforeColon, status: 400)
    }

    @Test func malformedFieldLines() {
        rejects("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n", .invalidFieldLine, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n", .invalidFieldName, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nBad(Name): v\r\n\r\n", .invalidFieldName, status: 400)
    }

    @Test func controlCharactersInValuesAreRejected() {
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{0}b\r\n\r\n", .invalidFieldValue, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", .invalidFieldValue, status: 400)  // bare CR
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{7F}b\r\n\r\n", .invalidFieldValue, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{1B}b\r\n\r\n", .invalidFieldValue, status: 400)
    }

    @Test func hostRules() {
        // RFC 9112 §3.2.
        rejects("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", .missingHost, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .duplicateHost, status: 400)
        rejects("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", .duplicateHost, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", .invalidHost, status: 400)
        rejects("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .invalidHost, status: 400)
    }

    @Test func unsupportedExpectation() {
        rejects("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", .unsupportedExpectation, status: 417)
    }

    // MARK: - Framing and smuggling (RFC 9112 §6)

    @Test func contentLengthWithTransferEncoding() {
        rejects(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            .contentLengthWithTransferEncoding, status: 400)
        rejects(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
            .contentLengthWithTransferEncoding, status: 400)
    }

    @Test func malformedContentLength() {
        for value in ["+5", "-5", "5a", "0x5", "5 5", "", ",", "5,", "99999999999999999999", "1e3", "٣"] {
            rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n", .invalidContentLength, status: 400)
        }
    }

    @Test func conflictingContentLength() {
        rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", .conflictingContentLength, status: 400)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingContentLength, status: 400)
    }

    @Test func transferCodings() {
        // RFC 9112 §6.3 item 4: chunked not final → 400.
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .chunkedNotFinal, status: 400)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .chunkedNotFinal, status: 400)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", .chunkedNotFinal, status: 400)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=y\r\n\r\n", .chunkedNotFinal, status: 400)
        // RFC 9112 §6.1: chunked at most once.
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .chunkedAppliedTwice, status: 400)
        // RFC 9112 §6.1: a coding we do not understand → 501.
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding, status: 501)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferCoding, status: 501)
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0.
        rejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .transferEncodingInHTTP10, status: 400)
    }

    @Test func declaredBodyTooLargeIsRejectedBeforeTheBody() {
        let limits = HTTPServer.Limits(maxBodyBytes: 10)
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits)?.body.count == 10)
        // No body bytes follow: the 413 is decided from the head alone.
        rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge, status: 413, limits: limits)
    }

    @Test func chunkedBodyTooLarge() {
        let limits = HTTPServer.Limits(maxBodyBytes: 10)
        #expect(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", limits: limits)?.body.count == 10)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n", .bodyTooLarge, status: 413, limits: limits)
        rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", .bodyTooLarge, status: 413, limits: limits)
    }

    @Test func malformedChunks() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        rejects(head + "zz\r\n", .invalidChunkSize, status: 400)
        rejects(head + "\r\n", .invalidChunkSize, status: 400)
        rejects(head + "-1\r\n", .invalidChunkSize, status: 400)
        rejects(head + "5 x\r\n", .invalidChunkSize, status: 400)
        rejects(head + "5\r\nhelloX\r\n", .invalidChunk, status: 400)  // data longer than declared
        rejects(head + "5\r\nhello\rX", .invalidChunk, status: 400)
        rejects(head + "5\nhello\r\n", .invalidChunkSize, status: 400)  // bare LF after size
        rejects(head + "5;a\nhello\r\n", .invalidChunkExtension, status: 400)  // bare LF after extension
        rejects(head + "5;a\u{0}b\r\nhello\r\n", .invalidChunkExtension, status: 400)
        rejects(head + "5;a\rb\r\nhello\r\n", .invalidChunk, status: 400)  // bare CR in an extension
        // chunk = chunk-size [ chunk-ext ] CRLF: whitespace after the size must lead to ";".
        rejects(head + "5 \r\nhello\r\n0\r\n\r\n", .invalidChunkSize, status: 400)
        rejects(head + "5\t\r\nhello\r\n0\r\n\r\n", .invalidChunkSize, status: 400)
        // At most 16 hex digits, leading zeros included.
        #expect(request(head + "0000000000000005\r\nhello\r\n0\r\n\r\n")?.body == Array("hello".utf8))
        rejects(head + "00000000000000005\r\nhello\r\n0\r\n\r\n", .invalidChunkSize, status: 400)
        rejects(head + "00000000000000000\r\n\r\n", .invalidChunkSize, status: 400)
    }

    @Test func chunkExtensionGrammar() {
        // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
        // chunk-ext-val = token / quoted-string. Well-formed extensions are ignored.
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        for ext in [";a", ";a=b", " ;a", "\t; a = b", ";a;b;c=d", ";a=\"\"", ";a=\"x y;z=\\\"q\\\\\"", ";a=\"x\" ;b",
                    ";name=\"caf\u{E9}\""] {
            #expect(request(head + "5\(ext)\r\nhello\r\n0\(ext)\r\n\r\n")?.body == Array("hello".utf8), "extension \(ext.debugDescription)")
        }
        for ext in [";", "; ", ";=b", ";a=", ";a= ", ";a ", ";a=b ", ";a b", ";a=b c", ";a=\"b", ";a=\"b\"c", ";a=\"b\"\t",
                    ";a@b", ";a=b@c", ";a=\"\u{1}\"", ";a=\"\\\u{7F}\"", ";a,b"] {
            rejects(head + "5\(ext)\r\nhello\r\n0\r\n\r\n", .invalidChunkExtension, status: 400)
        }
        rejects(head + "5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n", .invalidChunkExtension, status: 400)
        // Whitespace before ";" counts towards the extension limit.
        let limits = HTTPServer.Limits(maxChunkExtensionLength: 8)
        rejects(head + "5" + String(repeating: " ", count: 9) + ";a\r\nhello\r\n0\r\n\r\n", .chunkExtensionTooLong, status: 400, limits: limits)
    }

    @Test func chunkExtensionLimit() {
        let limits = HTTPServer.Limits(maxChunkExtensionLength: 8)
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(request(head + "1;abcdefgh\r\nx\r\n0\r\n\r\n", limits: limits)?.body == [0x78])
        rejects(head + "1;abcdefghi\r\nx\r\n0\r\n\r\n", .chunkExtensionTooLong, status: 400, limits: limits)
    }

    @Test func trailerRules() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        let limits = HTTPServer.Limits(maxTrailerBytes: 16)
        #expect(request(head + "X: 123456789\r\n\r\n", limits: limits) != nil)  // 14 + 2 = 16
        rejects(head + "X: 1234567890\r\n\r\n", .trailerSectionTooLarge, status: 431, limits: limits)
        rejects(head + "X: 1\r\n folded\r\n\r\n", .invalidTrailer, status: 400)
        rejects(head + "X : 1\r\n\r\n", .invalidTrailer, status: 400)
        rejects(head + "X: 1\u{0}\r\n\r\n", .invalidTrailer, status: 400)
        rejects(head + "X: 1\n\r\n", .invalidTrailer, status: 400)
        rejects(head + "\rX", .invalidTrailer, status: 400)
    }

    @Test func errorsAreFinal() {
        var parser = HTTPRequestParser()
        let bad = Array("GET / HTTP/1.1\nHost: a\r\n\r\n".utf8)
        let first = bad.withUnsafeBytes { parser.parse($0, limits: .init()).event }
        guard case .error = first else {
            Issue.record("expected an error")
            return
        }
        let good = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let second = good.withUnsafeBytes { parser.parse($0, limits: .init()).event }
        guard case .error(let error) = second else {
            Issue.record("a failed parser must stay failed")
            return
        }
        #expect(error.reason == .bareLF)
    }

    @Test func parseErrorStatusesAndDetails() {
        #expect(HTTPParseError(.requestLineTooLong).status == .uriTooLong)
        #expect(HTTPParseError(.tooManyHeaders).status == .requestHeaderFieldsTooLarge)
        #expect(HTTPParseError(.unsupportedTransferCoding).status == .notImplemented)
        #expect(!HTTPParseError(.obsFold).detail.isEmpty)
    }
}

/// The committed fuzz seeds (and the inputs of fixed fuzz findings) replay on every test run:
/// each parses the same whole, split at every byte boundary and one byte at a time.
@Suite("Request parser fuzz corpus")
struct RequestParserCorpusTests {
    static let directory: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/HTTPServerTests/RequestParserTests.swift
        return (components + ["Fuzz", "corpus", "request-parser"]).joined(separator: "/")
    }()

    @Test func everyCorpusInputParsesTheSameWhateverTheSplit() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).sorted()
        #expect(files.count >= 40)
        for name in files {
            let data = try #require(FileManager.default.contents(atPath: Self.directory + "/" + name), "\(name)")
            let outcomes = ParserHarness.parseEverySplit(Array(data))
            #expect(!outcomes.isEmpty, "\(name)")
        }
    }
}
