import HTTPTypes
import Testing
@testable import HTTPServer

@Suite("Response encoding")
struct ResponseEncoderTests {
    private func encode(
        _ response: Response, connection: ResponseEncoder.ConnectionField = .none, omitBody: Bool = false,
        serverName: String? = nil
    ) -> String {
        var encoder = ResponseEncoder(serverName: serverName)
        encoder.refreshDate(now: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        var out: [UInt8] = []
        let count = encoder.encode(response, requestID: "req-1", connection: connection, omitBody: omitBody, into: &out)
        #expect(count == out.count)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func imfFixdate() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func basicResponse() {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain"
        let text = encode(Response(status: .ok, headerFields: fields, body: Array("hi".utf8)))
        #expect(text == "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\n"
            + "X-Request-Id: req-1\r\nContent-Type: text/plain\r\n\r\nhi")
    }

    @Test func connectionFieldAndServer() {
        let close = encode(Response(status: .notFound), connection: .close, serverName: "cr")
        #expect(close == "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: cr\r\n"
            + "Content-Length: 0\r\nConnection: close\r\nX-Request-Id: req-1\r\n\r\n")
        #expect(encode(Response(), connection: .keepAlive).contains("\r\nConnection: keep-alive\r\n"))
    }

    @Test func headOmitsTheBodyButNotItsLength() {
        let text = encode(Response(body: Array("hello".utf8)), omitBody: true)
        #expect(text.hasSuffix("Content-Length: 5\r\nX-Request-Id: req-1\r\n\r\n"))
        var fields = HTTPFields()
        fields[.contentLength] = "1234"
        #expect(encode(Response(headerFields: fields), omitBody: true).contains("Content-Length: 1234\r\n"))
    }

    @Test func noContentAndNotModifiedHaveNoLengthOrBody() {
        let noContent = encode(Response(status: .noContent, body: Array("x".utf8)))
        #expect(!noContent.contains("Content-Length"))
        #expect(noContent.hasSuffix("\r\n\r\n"))
        #expect(!encode(Response(status: .notModified)).contains("Content-Length"))
    }

    @Test func serverOwnedFieldsFromHandlersAreIgnored() {
        var fields = HTTPFields()
        fields[.contentLength] = "999"
        fields[.transferEncoding] = "chunked"
        fields[.connection] = "keep-alive"
        fields[.xRequestID] = "spoofed"
        fields[.date] = "yesterday"
        fields[.location] = "/elsewhere"
        let text = encode(Response(status: .created, headerFields: fields, body: Array("abc".utf8)))
        #expect(text == "HTTP/1.1 201 Created\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 3\r\n"
            + "X-Request-Id: req-1\r\nLocation: /elsewhere\r\n\r\nabc")
    }

    @Test func statusWithoutPhraseUsesTheRegisteredOne() {
        #expect(encode(Response(status: 404)).hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(encode(Response(status: .init(code: 299, reasonPhrase: "Custom"))).hasPrefix("HTTP/1.1 299 Custom\r\n"))
        #expect(encode(Response(status: 299)).hasPrefix("HTTP/1.1 299 \r\n"))
    }

    @Test func handlerValuesCannotSplitTheResponse() {
        var fields = HTTPFields()
        fields[HTTPField.Name("X-Evil")!] = "a\r\nSet-Cookie: b"
        let text = encode(Response(headerFields: fields))
        #expect(!text.contains("\r\nSet-Cookie"))
    }

    @Test func problemDocuments() {
        let problem = Response.problem(status: .badRequest, detail: "quote \" backslash \\ newline \n tab \t bell \u{7}")
        #expect(problem.headerFields[.contentType] == "application/problem+json")
        #expect(String(decoding: problem.body, as: UTF8.self)
            == #"{"type":"about:blank","title":"Bad Request","status":400,"detail":"quote \" backslash \\ newline \n tab \t bell \u0007"}"#)
        let error = HTTPError.methodNotAllowed(allow: [.get, .post])
        #expect(error.makeResponse().headerFields[.allow] == "GET, POST")
        #expect(HTTPError.unsupportedMediaType(accept: "application/json").makeResponse().status == .unsupportedMediaType)
        #expect(String(decoding: HTTPError.internalServerError().makeResponse().body, as: UTF8.self)
            == #"{"type":"about:blank","title":"Internal Server Error","status":500}"#)
    }

    @Test func decimalFormatting() {
        for value in [0, 7, 10, 99, 100, 12345, 1_000_000_007, Int.max] {
            var out: [UInt8] = []
            ResponseEncoder.appendDecimal(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }
}

@Suite("Small parts")
struct SmallPartsTests {
    @Test func requestIDValidation() {
        #expect(RequestID.isWellFormed("a"))
        #expect(RequestID.isWellFormed("A-z_0.9"))
        #expect(RequestID.isWellFormed(String(repeating: "x", count: 200)))
        #expect(!RequestID.isWellFormed(""))
        #expect(!RequestID.isWellFormed(String(repeating: "x", count: 201)))
        #expect(!RequestID.isWellFormed("a b"))
        #expect(!RequestID.isWellFormed("é"))
    }

    @Test func generatedRequestIDs() {
        var generator = RequestID.Generator()
        let ids = (0..<1000).map { _ in generator.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 15 && RequestID.isWellFormed($0) })
    }

    @Test func queryParsing() {
        let query = PercentDecoding.parseQuery(Array("a=1&b=x+y&a=2&c&=v&d=%26%3D".utf8))
        #expect(query?["a"] == "1")
        #expect(query?.values(for: "a") == ["1", "2"])
        #expect(query?["b"] == "x y")
        #expect(query?["c"] == "")
        #expect(query?[""] == "v")
        #expect(query?["d"] == "&=")
        #expect(PercentDecoding.parseQuery(Array("a=%zz".utf8)) == nil)
    }

    @Test func percentDecoding() {
        #expect(PercentDecoding.decode(Array("a%20b".utf8)) == .success("a b"))
        #expect(PercentDecoding.decode(Array("a+b".utf8)) == .success("a+b"))
        #expect(PercentDecoding.decode(Array("a+b".utf8), plusAsSpace: true) == .success("a b"))
        #expect(PercentDecoding.decode(Array("%".utf8)) == .failure(.invalidEscape))
        #expect(PercentDecoding.decode(Array("%0".utf8)) == .failure(.invalidEscape))
        #expect(PercentDecoding.decode(Array("%00".utf8)) == .failure(.encodedNUL))
        #expect(PercentDecoding.decode(Array("%C3%28".utf8)) == .failure(.invalidUTF8))
    }

    @Test func requestInitializerForHandlerUnitTests() {
        let request = Request(method: .get, target: "/a%20b?x=1&y=two+words")
        #expect(request.path == "/a b")
        #expect(request.rawQuery == "x=1&y=two+words")
        #expect(request.query["y"] == "two words")
        var context = RequestContext(requestID: "r1", logger: .init(label: "t"))
        #expect(context.logger[metadataKey: "request-id"] == "r1")
    }
}
