import Glibc
import Testing
@testable import HTTPServer

extension EndToEnd {
    /// Limits and ambiguous framing over a real socket: the precise status, then a closed
    /// connection (anything after an ambiguous request must not be read as a new request).
    @Suite("Limits and smuggling")
    struct LimitsAndSmuggling {
        /// Sends `request` (optionally followed by a smuggled second request) and expects
        /// `status` with `Connection: close`, then EOF.
        private func expectRejected(
            _ request: String, status: Int, port: Int, sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let client = try TestClient(port: port)
            try client.send(request + "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == status, sourceLocation: sourceLocation)
            #expect(response.header("Connection") == "close", sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
            #expect(response.text.contains("\"status\":\(status)"), sourceLocation: sourceLocation)
            #expect(client.isClosedByPeer(), "the connection must close", sourceLocation: sourceLocation)
        }

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

        @Test func chunkedBodyOverTheLimit() throws {
            try withServer(configure: { $0.limits.maxBodyBytes = 8 }) { _, port in
                try expectRejected(
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n",
                    status: 413, port: port)
            }
        }

        @Test func requestLineTooLong() throws {
            try withServer(configure: { $0.limits.maxRequestLineLength = 64 }) { _, port in
                try expectRejected("GET /" + String(repeating: "x", count: 100) + " HTTP/1.1\r\nHost: t\r\n\r\n", status: 414, port: port)
            }
        }

        @Test func headerLimits() throws {
            try withServer(configure: { $0.limits.maxHeaderBytes = 256; $0.limits.maxHeaderCount = 5 }) { _, port in
                try expectRejected("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "v", count: 300) + "\r\n\r\n", status: 431, port: port)
                try expectRejected("GET / HTTP/1.1\r\nHost: t\r\n" + (1...5).map { "X-\($0): v\r\n" }.joined() + "\r\n", status: 431, port: port)
            }
        }

        @Test func smugglingAttemptsAreRejectedAndClosed() throws {
            try withServer { _, port in
                // RFC 9112 §6.3: Content-Length with Transfer-Encoding.
                try expectRejected(
                    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    status: 400, port: port)
                // Duplicate, different Content-Length.
                try expectRejected(
                    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello", status: 400, port: port)
                // Malformed Content-Length.
                try expectRejected("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", status: 400, port: port)
                // Unknown transfer coding before chunked → 501; chunked not last → 400.
                try expectRejected(
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501, port: port)
                try expectRejected(
                    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", status: 400, port: port)
                // obs-fold, whitespace before colon, bare LF, NUL in a value.
                try expectRejected("GET /hello HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n 2\r\n\r\n", status: 400, port: port)
                try expectRejected("GET /hello HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n", status: 400, port: port)
                try expectRejected("GET /hello HTTP/1.1\nHost: t\n\n", status: 400, port: port)
                try expectRejected("GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\u{0}b\r\n\r\n", status: 400, port: port)
                // Host: missing, duplicated.
                try expectRejected("GET /hello HTTP/1.1\r\n\r\n", status: 400, port: port)
                try expectRejected("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, port: port)
                // Version and target.
                try expectRejected("GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", status: 505, port: port)
                try expectRejected("GET /a%00 HTTP/1.1\r\nHost: t\r\n\r\n", status: 400, port: port)
                try expectRejected("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n", status: 400, port: port)
                // Transfer-Encoding in HTTP/1.0.
                try expectRejected("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, port: port)
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
    }
}
