import Glibc
import Synchronization
import Testing
@testable import HTTPServer

/// A hostile request and the status the server must answer with before it closes.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let status: Int

    init(_ name: String, _ request: String, _ status: Int) {
        self.init(name, bytes: Array(request.utf8), status)
    }

    init(_ name: String, bytes: [UInt8], _ status: Int) {
        self.name = name
        self.bytes = bytes
        self.status = status
    }

    var testDescription: String { "\(name) → \(status)" }
}

/// A request that looks odd but is valid: answered, and the connection stays usable.
struct ToleratedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let request: String
    let body: String

    init(_ name: String, _ request: String, body: String) {
        self.name = name
        self.request = request
        self.body = body
    }

    var testDescription: String { name }
}

/// Bytes carrying a request inside another (in a body, after a framing error, after a close):
/// the responses expected in order, and whether the connection must then close.
struct PipelineCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: String
    let statuses: [Int]
    let closes: Bool

    init(_ name: String, _ bytes: String, statuses: [Int], closes: Bool) {
        self.name = name
        self.bytes = bytes
        self.statuses = statuses
        self.closes = closes
    }

    var testDescription: String { name }
}

/// How many times the suite's handlers ran, and how many of those were the smuggled request.
final class HandlerCounts: Sendable {
    let handled = Atomic<Int>(0)
    let smuggled = Atomic<Int>(0)
}

/// A request no handler may ever see: appended after every hostile request, and hidden in the
/// bodies of the smuggling attempts.
private let smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"

private func post(_ fields: String, _ body: String, path: String = "/echo", version: String = "HTTP/1.1") -> String {
    "POST \(path) \(version)\r\nHost: t\r\n\(fields)\r\n\(body)"
}

private func chunked(_ body: String, fields: String = "") -> String {
    post("Transfer-Encoding: chunked\r\n" + fields, body)
}

private func get(_ fields: String = "", target: String = "/hello") -> String {
    "GET \(target) HTTP/1.1\r\nHost: t\r\n\(fields)\r\n"
}

private func requestLine(_ line: String) -> String {
    line + "\r\nHost: t\r\n\r\n"
}

private func bytes(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

extension EndToEnd {
    /// Request smuggling and framing over a real socket, table by table: every hostile request
    /// gets its precise status (RFC 9112 / RFC 9110), exactly one response, then a closed
    /// connection — and no handler ever runs, neither for it nor for the request appended after
    /// it. Valid-but-unusual framing is answered and leaves the connection usable.
    @Suite("Limits and smuggling")
    struct LimitsAndSmuggling {
        // MARK: - Harness

        /// A server whose handlers count their calls; `/smuggled` is the request that must never
        /// be reached.
        private func withCountingServer(
            configure: (inout HTTPServer.Configuration) -> Void = { _ in },
            _ body: (Int, HandlerCounts) throws -> Void
        ) throws {
            let counts = HandlerCounts()
            var router = Router()
            router.get("/hello") { _, _ in
                counts.handled.add(1, ordering: .relaxed)
                return Response(text: "hello")
            }
            router.post("/echo") { request, _ in
                counts.handled.add(1, ordering: .relaxed)
                return Response(status: .ok, body: request.body)
            }
            router.get("/smuggled") { _, _ in
                counts.handled.add(1, ordering: .relaxed)
                counts.smuggled.add(1, ordering: .relaxed)
                return Response(text: "smuggled")
            }
            router.post("/smuggled") { _, _ in
                counts.handled.add(1, ordering: .relaxed)
                counts.smuggled.add(1, ordering: .relaxed)
                return Response(text: "smuggled")
            }
            try withServer(router: router, configure: configure) { _, port in try body(port, counts) }
        }

        /// Sends `request` followed by a smuggled second request and expects exactly one
        /// response — `status`, `Connection: close`, a problem document — then EOF, with no
        /// handler run.
        private func expectRejected(
            _ request: [UInt8], status: Int, port: Int, counts: HandlerCounts, _ name: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let before = counts.handled.load(ordering: .relaxed)
            let client = try TestClient(port: port)
            try client.send(request + utf8(smuggled))
            let response = try client.readResponse()
            #expect(response.status == status, "\(name)", sourceLocation: sourceLocation)
            #expect(response.header("Connection") == "close", "\(name)", sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", "\(name)", sourceLocation: sourceLocation)
            #expect(response.text.contains("\"status\":\(status)"), "\(name)", sourceLocation: sourceLocation)
            #expect(client.isClosedByPeer(), "\(name): exactly one response, then the connection closes", sourceLocation: sourceLocation)
            #expect(counts.handled.load(ordering: .relaxed) == before, "\(name): no handler may run", sourceLocation: sourceLocation)
            #expect(counts.smuggled.load(ordering: .relaxed) == 0, "\(name): the smuggled request was served", sourceLocation: sourceLocation)
        }

        private func expectRejected(_ testCase: HostileCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try withCountingServer { port, counts in
                try expectRejected(testCase.bytes, status: testCase.status, port: port, counts: counts, testCase.name, sourceLocation: sourceLocation)
            }
        }

        // MARK: - Content-Length (RFC 9110 §8.6, RFC 9112 §6.2-6.3)

        static let contentLengthCases: [HostileCase] = [
            // §6.3 item 3: Content-Length with Transfer-Encoding is rejected (400), in either order.
            HostileCase("CL then TE", post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE then CL", post("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE with CL 0", post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE gzip with CL", post("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n", "hello"), 400),
            // §6.3 item 5: differing values are unrecoverable.
            HostileCase("two CL lines, different", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400),
            HostileCase("two CL lines, second zero", post("Content-Length: 5\r\nContent-Length: 0\r\n", "hello"), 400),
            HostileCase("CL list, different", post("Content-Length: 5, 6\r\n", "hello!"), 400),
            HostileCase("CL list, empty member", post("Content-Length: 5,,5\r\n", "hello"), 400),
            HostileCase("CL list, trailing comma", post("Content-Length: 5,\r\n", "hello"), 400),
            HostileCase("CL list, leading comma", post("Content-Length: ,5\r\n", "hello"), 400),
            // Content-Length = 1*DIGIT: no sign, base, exponent, fraction, inner space or quotes.
            HostileCase("CL negative", post("Content-Length: -5\r\n", "hello"), 400),
            HostileCase("CL negative zero", post("Content-Length: -0\r\n", ""), 400),
            HostileCase("CL plus sign", post("Content-Length: +5\r\n", "hello"), 400),
            HostileCase("CL 2^64", post("Content-Length: 18446744073709551616\r\n", "hello"), 400),
            HostileCase("CL 2^64 + 5", post("Content-Length: 18446744073709551621\r\n", "hello"), 400),
            HostileCase("CL 20 nines", post("Content-Length: 99999999999999999999\r\n", "hello"), 400),
            HostileCase("CL 2^63", post("Content-Length: 9223372036854775808\r\n", "hello"), 400),
            HostileCase("CL hex 0x5", post("Content-Length: 0x5\r\n", "hello"), 400),
            HostileCase("CL hex digit", post("Content-Length: 0a\r\n", "helloworld"), 400),
            HostileCase("CL inner space", post("Content-Length: 5 5\r\n", "hello"), 400),
            HostileCase("CL inner tab", post("Content-Length: 5\t5\r\n", "hello"), 400),
            HostileCase("CL exponent", post("Content-Length: 5e0\r\n", "hello"), 400),
            HostileCase("CL fraction", post("Content-Length: 5.0\r\n", "hello"), 400),
            HostileCase("CL quoted", post("Content-Length: \"5\"\r\n", "hello"), 400),
            HostileCase("CL empty", post("Content-Length:\r\n", ""), 400),
            HostileCase("CL non-ASCII digit", post("Content-Length: \u{665}\r\n", "hello"), 400),
            HostileCase("CL with NUL", post("Content-Length: 5\u{0}\r\n", "hello"), 400),
            HostileCase("CL with vertical tab", post("Content-Length: \u{B}5\r\n", "hello"), 400),
            HostileCase("CL whitespace before colon", post("Content-Length : 5\r\n", "hello"), 400),
            HostileCase("CL obs-folded", post("Content-Length:\r\n 5\r\n", "hello"), 400),
            HostileCase("CL different, HTTP/1.0", post("Content-Length: 1\r\nContent-Length: 5\r\n", "hello", version: "HTTP/1.0"), 400),
            // RFC 9110 §15.5.14: 413, decided from the declared length before any body byte.
            HostileCase("CL Int.max", post("Content-Length: 9223372036854775807\r\n", "hello"), 413),
            HostileCase("CL above the body limit", post("Content-Length: 1048577\r\n", "hello"), 413),
        ]

        @Test(arguments: contentLengthCases)
        func contentLength(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Transfer-Encoding (RFC 9112 §6.1, §6.3 item 4, §7)

        static let transferEncodingCases: [HostileCase] = [
            // §6.1: chunked at most once, in one line or across lines.
            HostileCase("TE chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunked in two lines", chunked("0\r\n\r\n", fields: "Transfer-Encoding: chunked\r\n"), 400),
            // §6.3 item 4: chunked not the final coding (or not there at all) → 400.
            HostileCase("TE chunked;q=1", post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunked; q=1", post("Transfer-Encoding: chunked; q=1\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE x-chunked", post("Transfer-Encoding: x-chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunkedx", post("Transfer-Encoding: chunkedx\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE identity", post("Transfer-Encoding: identity\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunked line, identity line", chunked("0\r\n\r\n", fields: "Transfer-Encoding: identity\r\n"), 400),
            HostileCase("TE empty", post("Transfer-Encoding:\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE only commas", post("Transfer-Encoding: , ,\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chu nked", post("Transfer-Encoding: chu nked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE quoted", post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE chunked with a slash", post("Transfer-Encoding: chunked/1.1\r\n", "0\r\n\r\n"), 400),
            // §6.1: a coding we do not implement before chunked → 501.
            HostileCase("TE identity, chunked", post("Transfer-Encoding: identity, chunked\r\n", "0\r\n\r\n"), 501),
            HostileCase("TE gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), 501),
            HostileCase("TE gzip line, chunked line", post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 501),
            // Control bytes, whitespace tricks and folding around the name and value (RFC 9110
            // §5.5, RFC 9112 §5.1, §5.2).
            HostileCase("TE vertical tab", post("Transfer-Encoding: \u{B}chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE form feed", post("Transfer-Encoding: chunked\u{C}\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE NUL", post("Transfer-Encoding: chunked\u{0}\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE bare CR", post("Transfer-Encoding: chunked\r\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE space before colon", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE tab before colon", post("Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE obs-fold (space)", post("Transfer-Encoding: identity\r\n chunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE obs-fold (tab)", post("Transfer-Encoding:\r\n\tchunked\r\n", "0\r\n\r\n"), 400),
            HostileCase("TE line starting with a space", "POST /echo HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: t\r\n\r\n0\r\n\r\n", 400),
            HostileCase("TE name with NUL", post("Transfer-Encoding\u{0}: chunked\r\n", "0\r\n\r\n"), 400),
            // §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
            HostileCase("TE in HTTP/1.0", post("Transfer-Encoding: chunked\r\n", "0\r\n\r\n", version: "HTTP/1.0"), 400),
        ]

        @Test(arguments: transferEncodingCases)
        func transferEncoding(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Chunked body (RFC 9112 §7.1)

        static let chunkedCases: [HostileCase] = [
            // chunk-size = 1*HEXDIG, at most 16 digits here.
            HostileCase("chunk size not hex", chunked("g\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size 0x prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size negative", chunked("-5\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size plus sign", chunked("+5\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size empty", chunked("\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size leading space", chunked(" 5\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size trailing space", chunked("5 \r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size trailing tab", chunked("5\t\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size 17 digits, leading zeros", chunked("00000000000000005\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("last chunk 20 zeros", chunked("00000000000000000000\r\n\r\n"), 400),
            HostileCase("chunk size with NUL", chunked("5\u{0}\r\nhello\r\n0\r\n\r\n"), 400),
            // RFC 9110 §15.5.14: an overflowing or oversized chunk size exceeds the body limit → 413.
            HostileCase("chunk size 2^64", chunked("10000000000000000\r\nhello\r\n0\r\n\r\n"), 413),
            HostileCase("chunk size 24 f", chunked("ffffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), 413),
            HostileCase("chunk size above the body limit", chunked("100001\r\nhello\r\n0\r\n\r\n"), 413),
            // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF: lines end in CRLF, data is
            // exactly chunk-size bytes.
            HostileCase("chunk data longer than its size", chunked("3\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk data shorter than its size", chunked("5\r\nhi\r\n0\r\n\r\n"), 400),
            HostileCase("chunk data without CRLF", chunked("5\r\nhello0\r\n\r\n"), 400),
            HostileCase("bare LF after chunk size", chunked("5\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("bare CR after chunk size", chunked("5\rhello\r\n0\r\n\r\n"), 400),
            HostileCase("bare LF after chunk data", chunked("5\r\nhello\n0\r\n\r\n"), 400),
            HostileCase("bare CR after chunk data", chunked("5\r\nhello\r0\r\n\r\n"), 400),
            HostileCase("bare LF after last chunk", chunked("0\n\r\n"), 400),
            HostileCase("bare LF ending the body", chunked("0\r\n\n"), 400),
            // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (§7.1.1).
            HostileCase("chunk extension bare CR", chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension bare LF", chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension NUL", chunked("5;a\u{0}\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension DEL", chunked("5;a=\u{7F}\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension empty", chunked("5;\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension without name", chunked("5;=v\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension without value", chunked("5;a=\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension trailing space", chunked("5;a \r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension unterminated quote", chunked("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension CR in a quoted string", chunked("5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk extension too long", chunked("5;a=" + String(repeating: "b", count: 1100) + "\r\nhello\r\n0\r\n\r\n"), 400),
            HostileCase("chunk size padded to too long an extension", chunked("5" + String(repeating: " ", count: 1100) + ";a\r\nhello\r\n0\r\n\r\n"), 400),
            // Trailer section: field lines (§7.1.2, RFC 9112 §5), bounded (431).
            HostileCase("trailer obs-fold", chunked("0\r\nX: 1\r\n 2\r\n\r\n"), 400),
            HostileCase("trailer space before colon", chunked("0\r\nX : 1\r\n\r\n"), 400),
            HostileCase("trailer bare LF", chunked("0\r\nX: 1\n\r\n"), 400),
            HostileCase("trailer bare CR", chunked("0\r\nX: 1\r2\r\n\r\n"), 400),
            HostileCase("trailer NUL", chunked("0\r\nX: \u{0}\r\n\r\n"), 400),
            HostileCase("trailer without colon", chunked("0\r\nX\r\n\r\n"), 400),
            HostileCase("trailer section too large", chunked("0\r\nX: " + String(repeating: "v", count: 9000) + "\r\n\r\n"), 431),
        ]

        @Test(arguments: chunkedCases)
        func chunkedBody(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Request line (RFC 9112 §2.2, §2.3, §3)

        static let requestLineCases: [HostileCase] = [
            // method = token (RFC 9110 §9.1), single SPs between the parts.
            HostileCase("method with @", requestLine("G@T /hello HTTP/1.1"), 400),
            HostileCase("method with parenthesis", requestLine("GE(T /hello HTTP/1.1"), 400),
            HostileCase("method with NUL", requestLine("GE\u{0}T /hello HTTP/1.1"), 400),
            HostileCase("method with bare CR", requestLine("GE\rT /hello HTTP/1.1"), 400),
            HostileCase("method non-ASCII", requestLine("G\u{C9}T /hello HTTP/1.1"), 400),
            HostileCase("empty method (leading space)", requestLine(" GET /hello HTTP/1.1"), 400),
            HostileCase("tab after method", requestLine("GET\t/hello HTTP/1.1"), 400),
            HostileCase("two spaces after method", requestLine("GET  /hello HTTP/1.1"), 400),
            HostileCase("two spaces before version", requestLine("GET /hello  HTTP/1.1"), 400),
            HostileCase("space after version", requestLine("GET /hello HTTP/1.1 "), 400),
            HostileCase("no version", requestLine("GET /hello"), 400),
            HostileCase("method only", requestLine("GET"), 400),
            // HTTP-version = %s"HTTP" "/" DIGIT "." DIGIT; 505 for versions other than 1.x.
            HostileCase("lowercase version", requestLine("GET /hello http/1.1"), 400),
            HostileCase("HTTPS version", requestLine("GET /hello HTTPS/1.1"), 400),
            HostileCase("version 1.10", requestLine("GET /hello HTTP/1.10"), 400),
            HostileCase("version 1", requestLine("GET /hello HTTP/1"), 400),
            HostileCase("version 1.x", requestLine("GET /hello HTTP/1.x"), 400),
            HostileCase("version with NUL", requestLine("GET /hello HTTP/1.1\u{0}"), 400),
            HostileCase("version 2.0", requestLine("GET /hello HTTP/2.0"), 505),
            HostileCase("version 3.0", requestLine("GET /hello HTTP/3.0"), 505),
            HostileCase("version 1.2", requestLine("GET /hello HTTP/1.2"), 505),
            HostileCase("version 0.9", requestLine("GET /hello HTTP/0.9"), 505),
            // Line endings (§2.2): CRLF only.
            HostileCase("bare LF ending the request line", "GET /hello HTTP/1.1\nHost: t\r\n\r\n", 400),
            HostileCase("bare CR ending the request line", "GET /hello HTTP/1.1\rHost: t\r\n\r\n", 400),
            HostileCase("CR CR LF ending the request line", "GET /hello HTTP/1.1\r\r\nHost: t\r\n\r\n", 400),
            HostileCase("only bare LFs", "GET /hello HTTP/1.1\nHost: t\n\n", 400),
            HostileCase("bare LF before the request line", "\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n", 400),
            HostileCase("nine empty lines before the request line", String(repeating: "\r\n", count: 9) + get(), 400),
            // request-target (§3.2): origin-form, absolute-form (http/https), asterisk-form for
            // OPTIONS; no controls, whitespace, fragment or bad escapes.
            HostileCase("target with NUL", requestLine("GET /hel\u{0}lo HTTP/1.1"), 400),
            HostileCase("target with bare CR", requestLine("GET /hel\rlo HTTP/1.1"), 400),
            HostileCase("target with DEL", requestLine("GET /hel\u{7F}lo HTTP/1.1"), 400),
            HostileCase("target with control byte", requestLine("GET /hel\u{1}lo HTTP/1.1"), 400),
            HostileCase("target with tab", requestLine("GET /hel\tlo HTTP/1.1"), 400),
            HostileCase("target with raw UTF-8", requestLine("GET /h\u{E9}llo HTTP/1.1"), 400),
            HostileCase("target with double quote", requestLine("GET /hel\"lo HTTP/1.1"), 400),
            HostileCase("target with fragment", requestLine("GET /hello#x HTTP/1.1"), 400),
            HostileCase("target with %00", requestLine("GET /hello%00 HTTP/1.1"), 400),
            HostileCase("target with %zz", requestLine("GET /hello%zz HTTP/1.1"), 400),
            HostileCase("target ending in %", requestLine("GET /hello% HTTP/1.1"), 400),
            HostileCase("target with invalid UTF-8 escape", requestLine("GET /h%C3%28 HTTP/1.1"), 400),
            HostileCase("relative target", requestLine("GET hello HTTP/1.1"), 400),
            HostileCase("absolute-form with userinfo", requestLine("GET http://user@t/hello HTTP/1.1"), 400),
            HostileCase("absolute-form ftp", requestLine("GET ftp://t/hello HTTP/1.1"), 400),
            HostileCase("absolute-form empty host", requestLine("GET http:///hello HTTP/1.1"), 400),
            HostileCase("absolute-form without //", requestLine("GET http:/hello HTTP/1.1"), 400),
            HostileCase("authority-form for GET", requestLine("GET t:80 HTTP/1.1"), 400),
            HostileCase("authority-form for CONNECT", requestLine("CONNECT t:443 HTTP/1.1"), 400),
            HostileCase("asterisk-form for GET", requestLine("GET * HTTP/1.1"), 400),
        ]

        @Test(arguments: requestLineCases)
        func requestLineRules(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Field lines (RFC 9112 §5, RFC 9110 §5)

        static let fieldLineCases: [HostileCase] = [
            HostileCase("NUL in a field name", get("X\u{0}A: 1\r\n"), 400),
            HostileCase("NUL in a field value", get("X-A: a\u{0}b\r\n"), 400),
            HostileCase("control byte in a field value", get("X-A: a\u{1}b\r\n"), 400),
            HostileCase("DEL in a field value", get("X-A: a\u{7F}b\r\n"), 400),
            HostileCase("vertical tab in a field value", get("X-A: a\u{B}b\r\n"), 400),
            HostileCase("escape in a field value", get("X-A: a\u{1B}[0mb\r\n"), 400),
            HostileCase("bare CR in a field value", get("X-A: a\rb\r\n"), 400),
            HostileCase("bare CR ending a field line", get("X-A: a\rX-B: b\r\n"), 400),
            HostileCase("CR CR LF ending a field line", get("X-A: a\r\r\n"), 400),
            HostileCase("bare LF ending a field line", get("X-A: a\nX-B: b\r\n"), 400),
            HostileCase("bare LF ending the header section", "GET /hello HTTP/1.1\r\nHost: t\r\n\n", 400),
            HostileCase("space before colon", get("X-A : 1\r\n"), 400),
            HostileCase("tab before colon", get("X-A\t: 1\r\n"), 400),
            HostileCase("obs-fold with space", get("X-A: 1\r\n 2\r\n"), 400),
            HostileCase("obs-fold with tab", get("X-A: 1\r\n\t2\r\n"), 400),
            HostileCase("whitespace line before the first field", "GET /hello HTTP/1.1\r\n X-A: 1\r\nHost: t\r\n\r\n", 400),
            HostileCase("field line without colon", get("X-A 1\r\n"), 400),
            HostileCase("empty field name", get(": 1\r\n"), 400),
            HostileCase("lone colon", get(":\r\n"), 400),
            HostileCase("space inside a field name", get("X A: 1\r\n"), 400),
            HostileCase("separator in a field name", get("X(A): 1\r\n"), 400),
            HostileCase("slash in a field name", get("X/A: 1\r\n"), 400),
            HostileCase("non-ASCII field name", get("X-\u{C9}: 1\r\n"), 400),
            // Host (RFC 9112 §3.2): exactly one, a valid authority.
            HostileCase("no Host", "GET /hello HTTP/1.1\r\n\r\n", 400),
            HostileCase("two Host lines", get("Host: u\r\n"), 400),
            HostileCase("two Host lines, same value", get("Host: t\r\n"), 400),
            HostileCase("Host with space", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
            HostileCase("Host with userinfo", "GET /hello HTTP/1.1\r\nHost: u@t\r\n\r\n", 400),
            HostileCase("Host with path", "GET /hello HTTP/1.1\r\nHost: t/x\r\n\r\n", 400),
            HostileCase("Host list", "GET /hello HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
            // RFC 9110 §10.1.1: an expectation other than 100-continue → 417.
            HostileCase("unsupported expectation", get("Expect: 200-ok\r\n"), 417),
            HostileCase("unsupported expectation with a body", post("Expect: 100-continue, x\r\nContent-Length: 5\r\n", "hello"), 417),
        ]

        @Test(arguments: fieldLineCases)
        func fieldLine(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Size limits (defaults: 8 KiB request line, 16 KiB header section, 100 fields)

        static let limitCases: [HostileCase] = [
            HostileCase("request line of 9 KiB", requestLine("GET /" + String(repeating: "a", count: 9 * 1024) + " HTTP/1.1"), 414),
            HostileCase("unterminated request line of 9 KiB", "GET /" + String(repeating: "a", count: 9 * 1024), 414),
            HostileCase("method of 9 KiB", requestLine(String(repeating: "G", count: 9 * 1024) + " /hello HTTP/1.1"), 414),
            HostileCase("field line of 17 KiB", get("X-Big: " + String(repeating: "v", count: 17 * 1024) + "\r\n"), 431),
            HostileCase("field name of 17 KiB", get(String(repeating: "X", count: 17 * 1024) + ": v\r\n"), 431),
            HostileCase("unterminated field line of 17 KiB", "GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "v", count: 17 * 1024), 431),
            HostileCase("header section of 20 × 1 KiB", get((1...20).map { "X-\($0): " + String(repeating: "v", count: 1024) + "\r\n" }.joined()), 431),
            HostileCase("101 fields", get((1...100).map { "X-\($0): v\r\n" }.joined()), 431),
            HostileCase("1000 empty-valued fields", get(String(repeating: "X:\r\n", count: 1000)), 431),
        ]

        @Test(arguments: limitCases)
        func limit(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Raw bytes outside UTF-8

        static let rawByteCases: [HostileCase] = [
            HostileCase("0xFF in the method", bytes: bytes([0x47, 0xFF, 0x54], utf8(" /hello HTTP/1.1\r\nHost: t\r\n\r\n")), 400),
            HostileCase("0x80 in the target", bytes: bytes(utf8("GET /he"), [0x80], utf8("llo HTTP/1.1\r\nHost: t\r\n\r\n")), 400),
            HostileCase("0xFF in a field name", bytes: bytes(utf8("GET /hello HTTP/1.1\r\nHost: t\r\nX-"), [0xFF], utf8(": 1\r\n\r\n")), 400),
            HostileCase("0x85 (NEL) as a line end", bytes: bytes(utf8("GET /hello HTTP/1.1\r\nHost: t"), [0x85], utf8("X-A: 1\r\n\r\n")), 400),
            HostileCase("0xFF in a chunk size", bytes: bytes(utf8(chunked("")), [0x35, 0xFF], utf8("\r\nhello\r\n0\r\n\r\n")), 400),
        ]

        @Test(arguments: rawByteCases)
        func rawBytes(_ testCase: HostileCase) throws {
            try expectRejected(testCase)
        }

        // MARK: - Valid, if unusual: answered, and the connection stays usable

        static let toleratedCases: [ToleratedCase] = [
            // RFC 9110 §8.6: identical Content-Length values may be treated as one.
            ToleratedCase("CL identical lines", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), body: "hello"),
            ToleratedCase("CL identical list", post("Content-Length: 5, 5\r\n", "hello"), body: "hello"),
            // RFC 9112 §5.1: OWS around a field value is not part of it.
            ToleratedCase("CL space-padded", post("Content-Length:    5   \r\n", "hello"), body: "hello"),
            ToleratedCase("CL tab-padded", post("Content-Length:\t5\t\r\n", "hello"), body: "hello"),
            ToleratedCase("CL without space after colon", post("Content-Length:5\r\n", "hello"), body: "hello"),
            ToleratedCase("CL leading zeros", post("Content-Length: 0000000000000000000000005\r\n", "hello"), body: "hello"),
            ToleratedCase("CL name in odd case", post("cOnTeNt-LeNgTh: 5\r\n", "hello"), body: "hello"),
            // RFC 9112 §7: coding names are case-insensitive; empty list members are ignored
            // (RFC 9110 §5.6.1).
            ToleratedCase("TE Chunked", post("Transfer-Encoding: Chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            ToleratedCase("TE CHUNKED", post("TRANSFER-ENCODING: CHUNKED\r\n", "5\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            ToleratedCase("TE tab-padded", post("Transfer-Encoding:\tchunked\t\r\n", "5\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            ToleratedCase("TE with empty list members", post("Transfer-Encoding: , chunked ,\r\n", "5\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            // RFC 9112 §7.1: hex digits in either case, leading zeros (up to 16 digits),
            // well-formed extensions (ignored), trailers (discarded).
            ToleratedCase("chunk sizes in both cases", chunked("a\r\nhello worl\r\nA\r\nd and more\r\n0\r\n\r\n"), body: "hello world and more"),
            ToleratedCase("chunk size with 16 digits", chunked("0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n"), body: "hello"),
            ToleratedCase("chunk extension name=value", chunked("5;name=value\r\nhello\r\n0;last\r\n\r\n"), body: "hello"),
            ToleratedCase("chunk extensions with BWS", chunked("5 ;\ta = b ; c\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            ToleratedCase("chunk extension quoted string", chunked("5;a=\"x; y=\\\"z\\\"\"\r\nhello\r\n0\r\n\r\n"), body: "hello"),
            ToleratedCase("chunk trailers", chunked("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n"), body: "hello"),
            ToleratedCase("many one-byte chunks", chunked("1\r\nh\r\n1\r\ne\r\n1\r\nl\r\n1\r\nl\r\n1\r\no\r\n0\r\n\r\n"), body: "hello"),
            // RFC 9112 §3.2.2: absolute-form must be accepted; the scheme is case-insensitive.
            ToleratedCase("absolute-form", get(target: "http://t/hello"), body: "hello"),
            ToleratedCase("absolute-form, upper-case scheme, port", get(target: "HTTPS://T:8443/hello"), body: "hello"),
            ToleratedCase("absolute-form with query", get(target: "http://t/hello?x=1"), body: "hello"),
            // RFC 9112 §2.2: empty lines before the request line are ignored.
            ToleratedCase("empty lines before the request line", "\r\n\r\n" + get(), body: "hello"),
            ToleratedCase("GET with a body", "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", body: "hello"),
            ToleratedCase("obs-text in a field value", get("X-Name: caf\u{E9}\r\n"), body: "hello"),
            ToleratedCase("percent-encoded path", get(target: "/hell%6F"), body: "hello"),
        ]

        @Test(arguments: toleratedCases)
        func tolerated(_ testCase: ToleratedCase) throws {
            try withCountingServer { port, counts in
                let client = try TestClient(port: port)
                try client.send(testCase.request + get())
                let response = try client.readResponse()
                #expect(response.status == 200, "\(testCase.name)")
                #expect(response.text == testCase.body, "\(testCase.name)")
                #expect(response.header("Connection") == "keep-alive", "\(testCase.name): keep-alive")
                let next = try client.readResponse()
                #expect(next.status == 200, "\(testCase.name): the next request on the connection")
                #expect(next.text == "hello", "\(testCase.name): the next request on the connection")
                #expect(counts.handled.load(ordering: .relaxed) == 2)
            }
        }

        // MARK: - Requests hidden in requests

        static let pipelineCases: [PipelineCase] = [
            // Classic CL.TE / TE.CL: a front end using the other header would forward the
            // hidden request as the next one. We answer one 400 and close; it never runs.
            PipelineCase(
                "CL.TE: chunked terminator then a request, inside Content-Length",
                post("Content-Length: \(5 + smuggled.utf8.count)\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "TE.CL: a chunk holding a request, Content-Length covering only its size line",
                post(
                    "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                    String(smuggled.utf8.count, radix: 16) + "\r\n" + smuggled + "\r\n0\r\n\r\n"),
                statuses: [400], closes: true),
            PipelineCase(
                "TE obfuscated by case and OWS, with Content-Length",
                post("Content-Length: 5\r\nTransfer-Encoding: \tChUnKeD \r\n", "0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "TE.TE: chunked then an unknown coding line, with Content-Length",
                post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\nContent-Length: 5\r\n", "0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "two Content-Length values: 0 and the length of a hidden request",
                post("Content-Length: 0\r\nContent-Length: \(smuggled.utf8.count)\r\n", smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "Content-Length list: the length of a hidden request and 0",
                post("Content-Length: \(smuggled.utf8.count), 0\r\n", smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "TE hidden by obs-fold, with Content-Length",
                post("Content-Length: \(smuggled.utf8.count)\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n", smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "TE hidden behind a bare LF",
                post("X-A: 1\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "TE with whitespace before the colon, with Content-Length",
                post("Transfer-Encoding : chunked\r\nContent-Length: \(5 + smuggled.utf8.count)\r\n", "0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "chunked in HTTP/1.0, a request after the last chunk",
                post("Transfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled, version: "HTTP/1.0"),
                statuses: [400], closes: true),
            PipelineCase(
                "last chunk without the final CRLF, a request as its trailer",
                chunked("0\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "chunk size with a trailing space, a request after the body",
                chunked("5 \r\nhello\r\n0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "chunk shorter than its size, a request after the body",
                chunked("5\r\nhi\r\n0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            PipelineCase(
                "chunk longer than its size, a request in the excess",
                chunked("1\r\nh" + smuggled + "\r\n0\r\n\r\n"),
                statuses: [400], closes: true),
            PipelineCase(
                "chunk size 2^64 + 5 (wraps to 5 in 64 bits)",
                chunked("10000000000000005\r\nhello\r\n0\r\n\r\n" + smuggled),
                statuses: [413], closes: true),
            PipelineCase(
                "chunk size 16 zero digits then 5 (a 64-bit truncation reads 0)",
                chunked("00000000000000005\r\nhello\r\n0\r\n\r\n" + smuggled),
                statuses: [400], closes: true),
            // A name that only looks like Transfer-Encoding is a plain field: the body is empty,
            // and the chunk bytes that follow are a malformed request line.
            PipelineCase(
                "Transfer_Encoding is not Transfer-Encoding",
                post("Transfer_Encoding: chunked\r\n", "0\r\n\r\n" + smuggled),
                statuses: [200, 400], closes: true),
            PipelineCase(
                "a valid request, then CL.TE, then a hidden request",
                get() + post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n") + smuggled,
                statuses: [200, 400], closes: true),
            // Rejected before the body is read: the body (a request) is discarded.
            PipelineCase(
                "413 by Content-Length, a request as the body",
                post("Content-Length: 2000000\r\n", smuggled),
                statuses: [413], closes: true),
            PipelineCase(
                "unsupported expectation, a request as the body",
                post("Expect: x-smuggle\r\nContent-Length: \(smuggled.utf8.count)\r\n", smuggled),
                statuses: [417], closes: true),
            PipelineCase(
                "100-continue to an unknown path, a request as the body",
                post("Expect: 100-continue\r\nContent-Length: \(smuggled.utf8.count)\r\n", smuggled, path: "/nowhere"),
                statuses: [404], closes: true),
            // After Connection: close (or an HTTP/1.0 request without keep-alive) nothing more is
            // read as a request.
            PipelineCase(
                "a request after Connection: close",
                get("Connection: close\r\n") + smuggled,
                statuses: [200], closes: true),
            PipelineCase(
                "a request after an HTTP/1.0 request",
                "GET /hello HTTP/1.0\r\n\r\n" + smuggled,
                statuses: [200], closes: true),
            // Correct framing keeps a request in a body a body: echoed, never run, and the
            // connection goes on.
            PipelineCase(
                "a request as a Content-Length body",
                post("Content-Length: \(smuggled.utf8.count)\r\n", smuggled),
                statuses: [200], closes: false),
            PipelineCase(
                "a request as chunk data",
                chunked(String(smuggled.utf8.count, radix: 16) + "\r\n" + smuggled + "\r\n0\r\n\r\n"),
                statuses: [200], closes: false),
            PipelineCase(
                "a request as a GET body (CL.0)",
                get("Content-Length: \(smuggled.utf8.count)\r\n") + smuggled,
                statuses: [200], closes: false),
            PipelineCase(
                "a request as a chunk extension value",
                chunked("5;x=\"GET /smuggled HTTP/1.1\"\r\nhello\r\n0\r\n\r\n"),
                statuses: [200], closes: false),
        ]

        @Test(arguments: pipelineCases)
        func requestInARequest(_ testCase: PipelineCase) throws {
            try withCountingServer { port, counts in
                let client = try TestClient(port: port)
                try client.send(testCase.bytes)
                var statuses: [Int] = []
                for _ in testCase.statuses {
                    let response = try client.readResponse()
                    statuses.append(response.status)
                    #expect(response.text != "smuggled", "\(testCase.name)")
                }
                #expect(statuses == testCase.statuses, "\(testCase.name)")
                if testCase.closes {
                    #expect(client.isClosedByPeer(), "\(testCase.name): nothing more is answered; the connection closes")
                } else {
                    // The framing held: the next request on the connection is answered.
                    try client.send(get())
                    let next = try client.readResponse()
                    #expect(next.text == "hello", "\(testCase.name): the next request on the connection")
                }
                #expect(counts.smuggled.load(ordering: .relaxed) == 0, "\(testCase.name): the hidden request reached a handler")
                let answered = testCase.statuses.filter { $0 == 200 }.count + (testCase.closes ? 0 : 1)
                #expect(counts.handled.load(ordering: .relaxed) == answered, "\(testCase.name): handler calls")
            }
        }

        // MARK: - Limits with other settings, and order

        @Test func contentLengthTooLargeIsAnsweredBeforeTheBodyIsSent() throws {
            try withServer(configure: { $0.limits.maxBodyBytes = 1024 }) { _, port in
                let client = try TestClient(port: port)
                // Only the head: the 413 must come without waiting for 10 MB.
                try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(response.header("Connection") == "close")
                #expect(client.isClosedByPeer())
            }
        }

        @Test func bodyTooLargeWhileTheClientKeepsSendingStillDeliversThe413() throws {
            try withServer(configure: { $0.limits.maxBodyBytes = 1024 }) { _, port in
                let client = try TestClient(port: port)
                try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n".utf8)
                    + [UInt8](repeating: 0x41, count: 200_000))
                // Lingering close: the unread body must not turn into a reset that eats the 413.
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(client.isClosedByPeer())
            }
        }

        @Test func configuredLimits() throws {
            try withCountingServer(configure: {
                $0.limits.maxBodyBytes = 8
                $0.limits.maxRequestLineLength = 64
                $0.limits.maxHeaderBytes = 256
                $0.limits.maxHeaderCount = 5
                $0.limits.maxChunkExtensionLength = 16
                $0.limits.maxTrailerBytes = 32
            }) { port, counts in
                let cases = [
                    HostileCase("chunked body over the limit", chunked("5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n"), 413),
                    HostileCase("request line over the limit", requestLine("GET /" + String(repeating: "x", count: 100) + " HTTP/1.1"), 414),
                    HostileCase("header section over the limit", get("X-Big: " + String(repeating: "v", count: 300) + "\r\n"), 431),
                    HostileCase("too many fields", get((1...5).map { "X-\($0): v\r\n" }.joined()), 431),
                    HostileCase("chunk extension over the limit", chunked("1;abcdefghijklmnopq\r\nx\r\n0\r\n\r\n"), 400),
                    HostileCase("trailers over the limit", chunked("0\r\nX: " + String(repeating: "v", count: 40) + "\r\n\r\n"), 431),
                ]
                for testCase in cases {
                    try expectRejected(testCase.bytes, status: testCase.status, port: port, counts: counts, testCase.name)
                }
                // Exactly at the limits: accepted.
                let client = try TestClient(port: port)
                try client.send(chunked("8;abcdefghijklmno\r\n12345678\r\n0\r\nX: " + String(repeating: "v", count: 25) + "\r\n\r\n"))
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "12345678")
            }
        }

        @Test func aResponseBeforeTheErrorIsStillDelivered() throws {
            try withServer { _, port in
                let client = try TestClient(port: port)
                try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n")
                #expect(try client.readResponse().text == "slow")
                #expect(try client.readResponse().status == 400)
                #expect(client.isClosedByPeer())
            }
        }

        @Test func aSmuggledRequestSentSlowlyIsStillRejected() throws {
            // The same CL.TE request, one byte per write: the outcome never depends on the split.
            try withCountingServer { port, counts in
                let client = try TestClient(port: port)
                let request = utf8(post("Content-Length: \(5 + smuggled.utf8.count)\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled))
                for byte in request {
                    try client.send([byte])
                }
                let response = try client.readResponse()
                #expect(response.status == 400)
                #expect(client.isClosedByPeer())
                #expect(counts.handled.load(ordering: .relaxed) == 0)
            }
        }
    }
}
