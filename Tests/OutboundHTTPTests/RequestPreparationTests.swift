@testable import OutboundHTTP
import Testing

/// Pieces that need no network: header parsing fed literal bytes, validation, redaction.
/// (The `send` calls here are refused before any I/O, so they may run on the test's own thread.)
@Suite struct RequestPreparationTests {
    private func feed(_ sink: ResponseSink, _ lines: [String]) -> Bool {
        lines.allSatisfy { line in
            Array(line.utf8).withUnsafeBytes { sink.appendHeaderLine($0) }
        }
    }

    @Test func headerParserKeepsOnlyTheLastBlock() {
        let sink = ResponseSink(maxBodyBytes: 10, maxHeaderBytes: 1000)
        #expect(feed(sink, [
            "HTTP/1.1 100 Continue\r\n", "X-Interim: 1\r\n", "\r\n",
            "HTTP/1.1 301 Moved\r\n", "Location: /b\r\n", "\r\n",
            "HTTP/1.1 200 OK\r\n", "Content-Type:  text/plain \r\n", "X-Folded: one\r\n", "\t two\r\n", "Empty:\r\n", "\r\n",
        ]))
        #expect(sink.headers.map(\.name) == ["Content-Type", "X-Folded", "Empty"])
        #expect(sink.headers.map(\.value) == ["text/plain", "one two", ""])
    }

    @Test func headerParserEnforcesItsLimitPerBlock() {
        let sink = ResponseSink(maxBodyBytes: 10, maxHeaderBytes: 50)
        #expect(feed(sink, ["HTTP/1.1 100 Continue\r\n", "X-Pad: 0123456789\r\n", "\r\n"]))  // 44 bytes
        #expect(feed(sink, ["HTTP/1.1 200 OK\r\n", "X-Pad: 0123456789\r\n", "\r\n"]))  // 38: a new block starts from zero
        #expect(!feed(sink, ["HTTP/1.1 200 OK\r\n", "X-Pad: 0123456789012345678901234\r\n"]))  // 51
        #expect(sink.overflow == .headers)
    }

    @Test func bodyLimitIsExact() {
        let sink = ResponseSink(maxBodyBytes: 4, maxHeaderBytes: 10)
        #expect([UInt8]([1, 2, 3]).withUnsafeBytes { sink.appendBody($0) })
        #expect([UInt8]([4]).withUnsafeBytes { sink.appendBody($0) })
        #expect(![UInt8]([5]).withUnsafeBytes { sink.appendBody($0) })
        #expect(sink.body == [1, 2, 3, 4])
        #expect(sink.overflow == .body)
    }

    @Test func credentialsAreRedactedFromDescriptions() {
        let request = OutboundRequest(
            url: "https://club.example/v1/ping",
            headers: [("Authorization", "Bearer tok3n"), ("Accept", "application/json")],
            basicAuth: .init(username: "connector", password: "hunter2")
        )
        let text = "\(request) \(String(reflecting: request))"
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("tok3n"))
        #expect(text.contains("connector"))
        #expect(text.contains("Accept: application/json"))
        #expect(RequestTarget.redactingUserinfo("https://u:p@host:8443/x?y=@z") == "https://***@host:8443/x?y=@z")
        #expect(RequestTarget.redactingUserinfo("https://host/a@b") == "https://host/a@b")
    }

    @Test func targetIsParsedWithDefaultPorts() throws {
        let https = try RequestTarget.parse("https://Club.Example/v1")
        #expect(https.scheme == "https")
        #expect(https.port == 443)
        #expect(try RequestTarget.parse("http://[::1]:8080/").authority == "[::1]:8080")
    }

    @Test(arguments: [
        ("not a url", OutboundHTTPError.Kind.invalidURL),
        ("/relative/path", .invalidURL),
        ("https://connector:pw@club.example/", .invalidURL),
    ])
    func badURLsAreRefusedBeforeAnyIO(url: String, kind: OutboundHTTPError.Kind) {
        let client = OutboundHTTPClient()
        #expect {
            _ = try client.send(OutboundRequest(url: url))
        } throws: { error in
            guard let error = error as? OutboundHTTPError else { return false }
            return error.kind == kind && !error.message.contains(":pw@")
        }
    }

    @Test func malformedRequestsAreRefusedBeforeAnyIO() {
        let client = OutboundHTTPClient()
        let url = "http://127.0.0.1:9/"
        let bad: [OutboundRequest] = [
            OutboundRequest(url: url, headers: [("X-Evil", "a\r\nInjected: yes")]),
            OutboundRequest(url: url, headers: [("Bad Name", "v")]),
            OutboundRequest(method: "GET /x", url: url),
            OutboundRequest(url: url, basicAuth: .init(username: "a:b", password: "c")),
            OutboundRequest(url: url, totalTimeout: .zero),
            OutboundRequest(url: url, maxRedirects: -1),
        ]
        for request in bad {
            #expect(throws: OutboundHTTPError.self) { try client.send(request) }
            do {
                _ = try client.send(request)
            } catch {
                #expect(error.kind == .invalidRequest, "\(error)")
                #expect(error.curlCode == nil)
            }
        }
    }

    @Test func timeoutsRoundUpToWholeMilliseconds() {
        #expect(OutboundHTTPClient.milliseconds(.microseconds(1)) == 1)
        #expect(OutboundHTTPClient.milliseconds(.milliseconds(300)) == 300)
        #expect(OutboundHTTPClient.milliseconds(.seconds(5)) == 5000)
        #expect(OutboundHTTPError.describe(.milliseconds(1500)) == "1.5 s")
    }
}
