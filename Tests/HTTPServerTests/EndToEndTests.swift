import Glibc
import HTTPTypes
import TestSupport
import Testing
@testable import HTTPServer

/// End-to-end tests over real loopback sockets. Serialized (with their nested suites) because
/// several measure time and the machine has two cores.
@Suite("End to end", .serialized)
struct EndToEnd {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            for path in ["/hello", "/healthz", "/hello"] {
                try client.send("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200)
                // Kept open, with the default 60 s idle timeout announced a little below it.
                #expect(response.header("Connection") == "keep-alive")
                #expect(response.header("Keep-Alive") == "timeout=55")
                #expect(response.header("Date")?.hasSuffix(" GMT") == true)
                #expect(response.header("X-Request-Id")?.utf8.count == 15)
                #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            }
        }
    }

    @Test func responseHeadersAndDateFormat() throws {
        try withServer(configure: { $0.serverName = "connector-receiver" }) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.text == "hello")
            #expect(response.header("Content-Length") == "5")
            #expect(response.header("Server") == "connector-receiver")
            // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
            let date = response.header("Date") ?? ""
            #expect(date.utf8.count == 29)
            #expect(date.split(separator: " ").count == 6)
        }
    }

    @Test func pipelinedResponsesKeepRequestOrder() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            // A slow worker request, then an inline one, a worker one, and a POST with a body,
            // all in one write.
            try client.send(
                "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n" + "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /items/7 HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nping")
            #expect(try client.readResponse().text == "slow")
            #expect(try client.readResponse().text == "fast")
            #expect(try client.readResponse().text == "item 7")
            #expect(try client.readResponse().text == "ping")
        }
    }

    @Test func deepPipeliningWithoutReadingIsBackpressuredNotDropped() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            // 3,000 requests in one burst, not reading until all are sent: the server stops
            // reading when its output backs up, and catches up as we read.
            let burst = String(repeating: "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", count: 3000)
            try client.send(burst)
            for index in 0..<3000 {
                let response = try client.readResponse()
                guard response.status == 200 && response.text == "ok" else {
                    Issue.record("response \(index): \(response.status)")
                    return
                }
            }
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func accessLogLine() throws {
        let logs = LogCapture()
        try withServer(logs: logs, configure: { $0.accessLog = true }) { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /items/5?x=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: log-me\r\n\r\n")
            _ = try client.readResponse()
            #expect(eventually { logs.entries.contains { $0.message == "request" } })
            let line = logs.entries.first { $0.message == "request" }
            #expect(line?.level == .info)
            #expect(line?.metadata["request-id"] == "log-me")
            #expect(line?.metadata["method"] == "GET")
            #expect(line?.metadata["path"] == "/items/5")
            #expect(line?.metadata["status"] == "200")
            #expect(line?.metadata["bytes"].flatMap(Int.init) ?? 0 > 0)
            #expect(line?.metadata["duration_ms"]?.contains(".") == true)
        }
    }

    @Test func chunkedRequestBody() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            try client.send("5;ext=1\r\nhello\r\n")
            usleep(20_000)
            try client.send("6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello world")
            // The connection is still usable.
            try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "ok")
        }
    }

    @Test func largeBodyInBothDirections() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            let body = [UInt8]((0..<900_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
            try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            let response = try client.readResponse()
            #expect(response.body == body)
            try client.send("GET /big?size=3000000 HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().body.count == 3_000_000)
        }
    }

    @Test func http10ClosesUnlessKeepAliveRequested() throws {
        try withServer { _, port in
            let plain = try TestClient(port: port)
            try plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let first = try plain.readResponse()
            #expect(first.status == 200)
            #expect(first.header("Connection") == "close")
            #expect(plain.isClosedByPeer())

            let keepAlive = try TestClient(port: port)
            try keepAlive.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive.readResponse().header("Connection") == "keep-alive")
            try keepAlive.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive.readResponse().text == "ok")
        }
    }

    @Test func connectionCloseFromClientOrHandler() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(try client.readResponse().header("Connection") == "close")
            #expect(client.isClosedByPeer())

            let other = try TestClient(port: port)
            try other.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try other.readResponse()
            #expect(response.text == "bye")
            #expect(response.headers(named: "Connection") == ["close"])
            #expect(other.isClosedByPeer())
        }
    }

    @Test func expectContinue() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("PUT /items/9 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            try client.send("abc")
            let final = try client.readResponse()
            #expect(final.status == 201)
            #expect(final.text == "put 9 3")
        }
    }

    @Test func expectContinueForAMissingRouteGetsTheFinalStatusWithoutReadingTheBody() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("PUT /nowhere HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 404)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test func headHasGetHeadersAndNoBody() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse(headRequest: true)
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "5")
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            // No body bytes: the next response starts right away.
            try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "ok")
        }
    }

    @Test func notFoundAndMethodNotAllowedAreProblems() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
            let missing = try client.readResponse()
            #expect(missing.status == 404)
            #expect(missing.header("Content-Type") == "application/problem+json")
            #expect(missing.text.hasPrefix(#"{"type":"about:blank","title":"Not Found","status":404,"detail":"#))

            try client.send("DELETE /items/3 HTTP/1.1\r\nHost: t\r\n\r\n")
            let wrongMethod = try client.readResponse()
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, HEAD, PUT")
            #expect(wrongMethod.text.contains(#""status":405"#))

            // Still the same connection: routing errors do not close it.
            try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
    }

    @Test func requestIDIsEchoedWhenWellFormedAndGeneratedOtherwise() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /request-id HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123_x.y\r\n\r\n")
            let echoed = try client.readResponse()
            #expect(echoed.header("X-Request-Id") == "abc-123_x.y")
            #expect(echoed.text == "abc-123_x.y")

            var generated: [String] = []
            for bad in ["has space", String(repeating: "a", count: 201), "semi;colon", ""] {
                try client.send("GET /request-id HTTP/1.1\r\nHost: t\r\nX-Request-Id: \(bad)\r\n\r\n")
                let response = try client.readResponse()
                let id = response.header("X-Request-Id") ?? ""
                #expect(id != bad)
                #expect(id.utf8.count == 15)
                #expect(RequestID.isWellFormed(id))
                #expect(response.text == id)
                generated.append(id)
            }
            #expect(Set(generated).count == generated.count)
        }
    }

    @Test func peerHalfCloseStillGetsItsResponse() throws {
        try withServer { _, port in
            let client = try TestClient(port: port)
            try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            client.shutdownWrite()
            #expect(try client.readResponse().text == "slow")
            #expect(try client.readResponse().text == "hello")
            #expect(client.isClosedByPeer())
        }
    }

    @Test func blockedHandlersDoNotStallTheEventLoop() throws {
        try withServer(configure: { $0.ioThreads = 1; $0.workerThreads = 2 }) { _, port in
            let slow = try TestClient(port: port)
            try slow.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            usleep(50_000)
            let fast = try TestClient(port: port)
            let elapsed = try measureMilliseconds {
                try fast.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try fast.readResponse().text == "ok")
                try fast.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try fast.readResponse().text == "hello")
            }
            #expect(elapsed < 200, "the event loop waited for a blocked handler (\(elapsed) ms)")
            #expect(try slow.readResponse().text == "slow")
        }
    }

    @Test func ipv6Loopback() throws {
        // Skip quietly where the machine has no IPv6 loopback.
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        Glibc.close(probe)
        guard bound == 0 else { return }

        try withServer(configure: { $0.host = "::1" }) { server, port in
            #expect(server.boundAddress?.family == .ipv6)
            #expect(server.boundAddress?.description == "[::1]:\(port)")
            let client = try TestClient(host: "::1", port: port)
            try client.send("GET /hello HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func dualStackListenerAcceptsIPv4() throws {
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return }
        Glibc.close(probe)
        try withServer(configure: { $0.host = "::" }) { _, port in
            let client = try TestClient(host: "127.0.0.1", port: port)
            try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "ok")
        }
    }
}
