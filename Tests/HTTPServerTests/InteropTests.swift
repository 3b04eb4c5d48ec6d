import Glibc
import HTTPTypes
import Testing
@testable import HTTPServer

/// What pooled HTTP clients (Apache HttpClient, `HttpURLConnection`, `java.net.http`) rely on:
/// the conditional GET (RFC 9110 §13.1.2, §13.2.2) and the `Keep-Alive` timeout on kept
/// connections.
@Suite("Client interop")
struct InteropTests {
    // MARK: - If-None-Match, unit

    private func ok(etag: String? = "\"3\"", cacheControl: String? = "no-store") -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let etag { fields[.eTag] = etag }
        if let cacheControl { fields[.cacheControl] = cacheControl }
        fields[.location] = "/v1/things/1"
        return Response(status: .ok, headerFields: fields, body: Array(#"{"id":"1"}"#.utf8))
    }

    @Test(arguments: [
        ("\"3\"", "\"3\"", true),
        ("W/\"3\"", "\"3\"", true),  // weak comparison
        ("\"3\"", "W/\"3\"", true),
        ("\"1\", \"2\",\"3\"", "\"3\"", true),
        ("\"1\" , W/\"3\"", "\"3\"", true),
        ("*", "\"3\"", true),
        (" * ", "\"3\"", true),
        ("\"4\"", "\"3\"", false),
        ("\"30\"", "\"3\"", false),
        ("3", "\"3\"", false),  // unquoted: not an entity tag
        ("junk, \"3\"", "\"3\"", true),  // a malformed member is skipped
        ("junk", "\"3\"", false),
        ("", "\"3\"", false),
        ("\"3\"", "3", false),  // the response's own tag is malformed
        ("\"a,b\"", "\"a,b\"", true),  // a comma inside a tag is part of it
    ])
    func ifNoneMatchComparison(_ header: String, _ etag: String, _ expected: Bool) {
        #expect(ConditionalGET.matches(ifNoneMatch: header, etag: etag) == expected, "\(header) vs \(etag)")
    }

    @Test func matchingGETBecomes304WithTheETagAndNoBody() {
        let response = ConditionalGET.apply(method: .get, ifNoneMatch: "\"3\"", to: ok())
        #expect(response.status == .notModified)
        #expect(response.body.isEmpty)
        #expect(response.headerFields[.eTag] == "\"3\"")
        #expect(response.headerFields[.cacheControl] == "no-store")  // RFC 9110 §15.4.5 keeps it
        #expect(response.headerFields[.contentType] == nil)  // representation metadata is not
        #expect(response.headerFields[.location] == nil)
        #expect(ConditionalGET.apply(method: .head, ifNoneMatch: "W/\"3\"", to: ok()).status == .notModified)
    }

    @Test func everythingElsePassesThrough() {
        // Not matching, no header, not GET/HEAD, not 200, no ETag.
        #expect(ConditionalGET.apply(method: .get, ifNoneMatch: "\"2\"", to: ok()).status == .ok)
        #expect(ConditionalGET.apply(method: .get, ifNoneMatch: nil, to: ok()).body.count == 10)
        #expect(ConditionalGET.apply(method: .put, ifNoneMatch: "\"3\"", to: ok()).status == .ok)
        #expect(ConditionalGET.apply(method: .patch, ifNoneMatch: "*", to: ok()).status == .ok)
        var created = ok()
        created.status = .created
        #expect(ConditionalGET.apply(method: .get, ifNoneMatch: "\"3\"", to: created).status == .created)
        var missing = ok()
        missing.status = .notFound
        #expect(ConditionalGET.apply(method: .get, ifNoneMatch: "*", to: missing).status == .notFound)
        #expect(ConditionalGET.apply(method: .get, ifNoneMatch: "*", to: ok(etag: nil)).status == .ok)
    }

    // MARK: - Keep-Alive timeout, unit

    @Test(arguments: [(60_000, 55), (10_000, 7), (8_000, 6), (2_000, 1), (1_500, 1), (1_000, 0), (300_000, 295)])
    func announcedKeepAliveIsALittleBelowTheIdleTimeout(_ idleMillis: Int, _ announced: Int) {
        let timeouts = HTTPServer.Timeouts(idle: .milliseconds(idleMillis))
        #expect(timeouts.announcedKeepAliveSeconds == announced)
        #expect(Double(timeouts.announcedKeepAliveSeconds) < Double(idleMillis) / 1000)
    }

    private func encode(_ response: Response, connection: ResponseEncoder.ConnectionField, keepAlive: Int?) -> String {
        var encoder = ResponseEncoder(serverName: nil, keepAliveTimeout: keepAlive)
        var out: [UInt8] = []
        encoder.encode(response, requestID: "r", connection: connection, omitBody: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func encoderAnnouncesTheTimeoutOnlyOnKeptConnections() {
        let kept = encode(Response(), connection: .none, keepAlive: 55)
        #expect(kept.contains("\r\nConnection: keep-alive\r\nKeep-Alive: timeout=55\r\n"))
        let kept10 = encode(Response(), connection: .keepAlive, keepAlive: 55)
        #expect(kept10.components(separatedBy: "Connection:").count == 2)  // said once
        #expect(kept10.contains("Keep-Alive: timeout=55\r\n"))
        let closing = encode(Response(), connection: .close, keepAlive: 55)
        #expect(closing.contains("\r\nConnection: close\r\n"))
        #expect(!closing.contains("Keep-Alive"))
        #expect(!closing.contains("keep-alive"))
        // A handler's own Keep-Alive is the server's business and is dropped.
        var fields = HTTPFields()
        fields[HTTPField.Name("Keep-Alive")!] = "timeout=999"
        #expect(!encode(Response(headerFields: fields), connection: .none, keepAlive: 5).contains("999"))
    }

    // MARK: - Over real sockets

    private static func record(_ version: String) -> Response {
        var fields = HTTPFields()
        fields[.eTag] = "\"\(version)\""
        fields[.cacheControl] = "no-store"
        return Response(status: .ok, headerFields: fields, text: "record v\(version)")
    }

    private func interopRouter() -> Router {
        var router = makeTestRouter()
        router.get("/record") { _, _ in InteropTests.record("7") }
        router.get("/record-inline", options: .inline) { _, _ in InteropTests.record("7") }
        router.get("/record-deferred", options: .inline) { _, context in
            guard let deferred = context.deferResponse() else { return InteropTests.record("7") }
            deferred.completeOnWorker({ _, _ in InteropTests.record("7") }, request: Request(method: .get, target: "/"), context: context)
            return Response()
        }
        router.put("/record") { _, _ in InteropTests.record("8") }
        return router
    }

    @Test(arguments: ["/record", "/record-inline", "/record-deferred"])
    func ifNoneMatchOverTheWire(_ path: String) throws {
        try withServer(router: interopRouter()) { _, port in
            let client = try TestClient(port: port)
            client.setTimeout(.seconds(5))
            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let full = try client.readResponse()
            #expect(full.status == 200)
            #expect(full.text == "record v7")
            let etag = try #require(full.header("ETag"))

            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nIf-None-Match: \(etag)\r\n\r\n")
            let notModified = try client.readResponse()
            #expect(notModified.status == 304)
            #expect(notModified.header("ETag") == etag)
            #expect(notModified.header("Cache-Control") == "no-store")
            #expect(notModified.header("Content-Length") == nil)
            #expect(notModified.header("Content-Type") == nil)
            #expect(notModified.header("X-Request-Id") != nil)

            // No body was sent: the next response on the connection starts right after the head.
            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"6\", W/\"5\"\r\n\r\n")
            let changed = try client.readResponse()
            #expect(changed.status == 200)
            #expect(changed.text == "record v7")

            try client.send("HEAD \(path) HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n\r\n")
            #expect(try client.readResponse(headRequest: true).status == 304)
        }
    }

    @Test func ifNoneMatchLeavesOtherMethodsToTheHandler() throws {
        try withServer(router: interopRouter()) { _, port in
            let client = try TestClient(port: port)
            client.setTimeout(.seconds(5))
            try client.send("PUT /record HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"8\"\r\nContent-Length: 0\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "record v8")
        }
    }

    @Test func keptConnectionsAnnounceTheirTimeoutAndClosingOnesSayClose() throws {
        try withServer(router: interopRouter(), configure: { $0.timeouts.idle = .seconds(8) }) { _, port in
            let client = try TestClient(port: port)
            client.setTimeout(.seconds(5))
            for path in ["/hello", "/healthz", "/record", "/nope"] {
                try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.header("Keep-Alive") == "timeout=6", "\(path)")
                #expect(response.header("Connection") == "keep-alive", "\(path)")
            }
            try client.send("GET /record HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"7\"\r\n\r\n")
            #expect(try client.readResponse().header("Keep-Alive") == "timeout=6")

            try client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let http10 = try client.readResponse()
            #expect(http10.header("Connection") == "keep-alive")
            #expect(http10.header("Keep-Alive") == "timeout=6")

            // The client asks to close: the server says so and says nothing of keeping it.
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let last = try client.readResponse()
            #expect(last.header("Connection") == "close")
            #expect(last.header("Keep-Alive") == nil)
            #expect(client.isClosedByPeer())

            // The handler closes.
            let other = try TestClient(port: port)
            other.setTimeout(.seconds(5))
            try other.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n")
            let closed = try other.readResponse()
            #expect(closed.header("Connection") == "close")
            #expect(closed.header("Keep-Alive") == nil)
            #expect(other.isClosedByPeer())
        }
    }

    @Test func anErrorThatEndsTheConnectionSaysClose() throws {
        try withServer(router: interopRouter()) { _, port in
            let client = try TestClient(port: port)
            client.setTimeout(.seconds(5))
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.header("Connection") == "close")
            #expect(response.header("Keep-Alive") == nil)
        }
    }
}
