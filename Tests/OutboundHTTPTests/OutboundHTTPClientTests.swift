import Foundation
import OutboundHTTP
import Testing

/// End-to-end tests against a real HTTP/1.1 server on 127.0.0.1 (no mocks).
/// Swift Testing makes a fresh instance, and so a fresh server, for every test.
@Suite final class OutboundHTTPClientTests: Sendable {
    let server: LoopbackHTTPServer
    let client = OutboundHTTPClient(configuration: .init(version: "1.2.3"))

    init() throws {
        server = try LoopbackHTTPServer(handler: standardRoutes)
    }

    deinit { server.stop() }

    // MARK: - Responses

    @Test func getReturnsStatusBodyHeadersAndTimings() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/healthz"))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")

        #expect(response.status == 200)
        #expect(response.bodyText == "ok\n")
        #expect(response.header("content-type") == "text/plain")
        #expect(response.header("X-Probe") == "spaced value")  // optional whitespace trimmed
        #expect(response.effectiveURL == server.baseURL + "/healthz")
        #expect(response.remoteAddress == "127.0.0.1")
        #expect(response.remotePort == server.port)
        #expect(response.newConnections == 1)
        #expect(response.timings.connect > .zero)
        #expect(response.timings.total >= response.timings.firstByte)
        #expect(response.timings.firstByte >= response.timings.connect)

        let received = try #require(server.requests.first)
        #expect(received.method == "GET")
        #expect(received.target == "/healthz")
        #expect(received.header("User-Agent") == "connector-receiver/1.2.3")
        #expect(received.header("Authorization") == nil)
        #expect(received.header("Expect") == nil)
        #expect(received.body.isEmpty)
    }

    @Test func postSendsBodyVerbatim() async throws {
        let body = Array("{\"event\":\"member.updated\",\"id\":42}".utf8) + [0x00, 0xFF]  // binary-safe
        let outcome = await client.sendOffPool(OutboundRequest(
            method: "POST",
            url: server.baseURL + "/echo",
            headers: [("Content-Type", "application/json"), ("X-Request-Id", "abc-123")],
            body: body
        ))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 200)
        #expect(response.header("X-Method") == "POST")
        #expect(response.body == body)

        let received = try #require(server.requests.first)
        #expect(received.method == "POST")
        #expect(received.body == body)
        #expect(received.header("Content-Length") == "\(body.count)")
        #expect(received.header("Content-Type") == "application/json")
        #expect(received.header("X-Request-Id") == "abc-123")
        #expect(received.header("Expect") == nil)
    }

    @Test func otherMethodsAndBodyWithoutContentType() async throws {
        let put = await client.sendOffPool(OutboundRequest(method: "PUT", url: server.baseURL + "/echo", body: Array("v=1".utf8)))
        #expect(put.response?.header("X-Method") == "PUT")
        #expect(put.response?.bodyText == "v=1")
        let delete = await client.sendOffPool(OutboundRequest(method: "DELETE", url: server.baseURL + "/echo"))
        #expect(delete.response?.header("X-Method") == "DELETE")
        let head = await client.sendOffPool(OutboundRequest(method: "HEAD", url: server.baseURL + "/healthz"))
        #expect(head.response?.status == 200)
        #expect(head.response?.body.isEmpty == true)

        let methods = server.requests.map(\.method)
        #expect(methods == ["PUT", "DELETE", "HEAD"])
        // libcurl would otherwise label any body as a form post.
        #expect(server.requests.first?.header("Content-Type") == nil)
    }

    @Test func basicAuthIsSentAsAuthorizationHeaderNotInTheURL() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(
            url: server.baseURL + "/v1/whoami",
            basicAuth: .init(username: "connector", password: "s3cr:et wörd")
        ))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 200)
        #expect(response.bodyText == "connector")
        #expect(!response.effectiveURL.contains("s3cr"))

        let received = try #require(server.requests.first)
        #expect(received.rawText.contains("\r\nAuthorization: Basic Y29ubmVjdG9yOnMzY3I6ZXQgd8O2cmQ=\r\n"))
        #expect(received.rawText.hasPrefix("GET /v1/whoami HTTP/1.1\r\n"))
    }

    @Test func unauthorizedIsAResponseNotAnError() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/v1/whoami"))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 401)
        #expect(response.header("WWW-Authenticate") == "Basic realm=\"receiver\"")
        #expect(response.bodyText.contains("Unauthorized"))
        #expect(server.requests.first?.header("Authorization") == nil)
    }

    @Test func reusedHandleCarriesNothingOverButTheConnection() async throws {
        let client = OutboundHTTPClient(configuration: .init(maxIdleHandles: 1))
        // Both on one thread, one right after the other: between two awaits a loaded machine
        // can stall a test for longer than libcurl keeps an idle connection for reuse (118 s).
        let (first, second) = await onWorkerThread { [server] in
            let first = client.sendTimed(OutboundRequest(
                method: "POST",
                url: server.baseURL + "/v1/whoami",
                body: Array("secret body".utf8),
                basicAuth: .init(username: "connector", password: "s3cr:et wörd")
            ))
            return (first, client.sendTimed(OutboundRequest(url: server.baseURL + "/echo")))
        }
        #expect(first.response?.newConnections == 1)
        let response = try #require(second.response, "\(String(describing: second.error))")

        #expect(response.header("X-Method") == "GET")
        #expect(response.newConnections == 0)  // the idle connection was reused…
        #expect(server.acceptedConnections == 1)
        let received = try #require(server.requests.last)
        #expect(received.header("Authorization") == nil)  // …but not the credentials
        #expect(received.body.isEmpty)
        #expect(received.header("Content-Length") == nil)
    }

    @Test func freshConnectionOpensANewConnection() async throws {
        let client = OutboundHTTPClient(configuration: .init(maxIdleHandles: 1))
        _ = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/healthz"))
        let fresh = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/healthz", freshConnection: true))
        #expect(fresh.response?.newConnections == 1)
        #expect(server.acceptedConnections == 2)
    }

    @Test func interimResponseHeadersAreDropped() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/continue"))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 200)
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("X-Interim") == nil)
        #expect(response.bodyText == "done")
    }

    @Test func redirectsAreNotFollowedByDefault() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/redirect"))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 302)
        #expect(response.header("Location") == "/healthz")
        #expect(server.requests.count == 1)
    }

    @Test func redirectsAreFollowedWhenAskedAndOnlyTheLastHeadersKept() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/redirect", maxRedirects: 3))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 200)
        #expect(response.redirectCount == 1)
        #expect(response.effectiveURL == server.baseURL + "/healthz")
        #expect(response.header("X-First") == nil)
        #expect(response.header("X-Probe") == "spaced value")
    }

    @Test func redirectLoopIsCutOff() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/redirect-loop", maxRedirects: 3))
        #expect(outcome.error?.kind == .tooManyRedirects)
    }

    @Test func redirectToAnotherSchemeIsRefused() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/redirect-ftp", maxRedirects: 3))
        let error = try #require(outcome.error)
        #expect(error.kind == .unsupportedScheme)
        #expect(error.curlCode == 1)
    }

    // MARK: - Failures

    @Test func refusedConnectionFailsFastAndSaysWhere() async throws {
        let port = try LoopbackHTTPServer.closedPort()
        let outcome = await client.sendOffPool(OutboundRequest(url: "http://127.0.0.1:\(port)/healthz"))
        let error = try #require(outcome.error)
        #expect(error.kind == .couldNotConnect)
        #expect(error.curlCode == 7)
        #expect(error.message.contains("could not connect to 127.0.0.1:\(port): connection refused"))
        #expect(error.message.contains("is the receiver running"))
        #expect(outcome.elapsed < .seconds(2))
    }

    @Test func connectTimeoutIsReportedAsSuch() async throws {
        let stalled = try UnresponsiveListener(fillAcceptQueue: true)
        let outcome = await client.sendOffPool(OutboundRequest(
            url: "http://127.0.0.1:\(stalled.port)/healthz",
            connectTimeout: .milliseconds(300),
            totalTimeout: .seconds(5)
        ))
        let error = try #require(outcome.error)
        #expect(error.kind == .connectTimeout)
        #expect(error.curlCode == 28)
        #expect(error.message.contains("could not connect to 127.0.0.1:\(stalled.port) within 300 ms"))
        #expect(outcome.elapsed >= .milliseconds(250))
        #expect(outcome.elapsed < .seconds(3))
        withExtendedLifetime(stalled) {}
    }

    @Test func stalledTLSHandshakeIsAConnectTimeout() async throws {
        let silent = try UnresponsiveListener(fillAcceptQueue: false)
        let outcome = await client.sendOffPool(OutboundRequest(
            url: "https://127.0.0.1:\(silent.port)/healthz",
            connectTimeout: .milliseconds(300),
            totalTimeout: .seconds(5)
        ))
        let error = try #require(outcome.error)
        #expect(error.kind == .connectTimeout)
        #expect(error.message.contains("TLS handshake did not finish within 300 ms"))
        #expect(outcome.elapsed < .seconds(3))
        withExtendedLifetime(silent) {}
    }

    @Test func totalTimeoutWhenTheServerNeverAnswers() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(
            url: server.baseURL + "/hang",
            totalTimeout: .milliseconds(300)
        ))
        let error = try #require(outcome.error)
        #expect(error.kind == .totalTimeout)
        #expect(error.curlCode == 28)
        #expect(error.message.contains("no complete response within 300 ms"))
        #expect(outcome.elapsed >= .milliseconds(250))
        #expect(outcome.elapsed < .seconds(3))
    }

    @Test func bodyAtTheLimitIsAcceptedAndOneByteMoreIsNot() async throws {
        let client = OutboundHTTPClient(configuration: .init(maxResponseBodyBytes: 1000))
        let atLimit = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/bytes/1000"))
        #expect(atLimit.response?.body.count == 1000)

        let over = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/bytes/1001"))
        let error = try #require(over.error)
        #expect(error.kind == .responseTooLarge)
        #expect(error.message.contains("1000-byte limit"))
    }

    @Test func streamedBodyOverTheDefaultLimitIsAnError() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/stream-2MiB"))
        let error = try #require(outcome.error)
        #expect(error.kind == .responseTooLarge)
        #expect(error.curlCode == 23)  // aborted by the write callback, not by Content-Length
        #expect(error.message.contains("\(1 << 20)-byte limit"))
    }

    @Test func oversizedHeadersAreAnError() async throws {
        let client = OutboundHTTPClient(configuration: .init(maxResponseHeaderBytes: 1024))
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/big-headers"))
        #expect(outcome.error?.kind == .responseTooLarge)
    }

    @Test func unsupportedSchemeIsRefusedByLibcurl() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: "ftp://127.0.0.1:\(server.port)/file"))
        let error = try #require(outcome.error)
        #expect(error.kind == .unsupportedScheme)
        #expect(error.curlCode == 1)
        #expect(error.message.contains("only http:// and https://"))
        #expect(server.acceptedConnections == 0)
    }

    @Test func httpsAgainstAPlainHTTPServerFailsTheHandshake() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(
            url: "https://127.0.0.1:\(server.port)/healthz",
            totalTimeout: .seconds(5)
        ))
        let error = try #require(outcome.error)
        #expect(error.kind == .tlsHandshake)
        #expect(error.curlCode == 35)
        #expect(error.message.contains("TLS handshake with 127.0.0.1:\(server.port) failed"))
        #expect(outcome.elapsed < .seconds(3))
    }

    @Test func serverClosingWithoutAnswerIsConnectionLost() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/close"))
        let error = try #require(outcome.error)
        #expect(error.kind == .connectionLost)
        #expect(error.curlCode == 52)
    }

    @Test func nonHTTPReplyIsAnInvalidResponse() async throws {
        let outcome = await client.sendOffPool(OutboundRequest(url: server.baseURL + "/garbage"))
        let error = try #require(outcome.error)
        #expect(error.kind == .invalidResponse)
        #expect(error.message.contains("did not answer with valid HTTP"))
    }

    // MARK: - Concurrency

    @Test func manyConcurrentRequestsFromSeveralThreads() async throws {
        let client = OutboundHTTPClient(configuration: .init(maxIdleHandles: 8))
        let baseURL = server.baseURL
        let failures = await withTaskGroup(of: [String].self) { group in
            for thread in 0..<8 {
                group.addTask {
                    // Each task waits on a dedicated thread that sends 20 requests in a row.
                    await onWorkerThread {
                        var failures: [String] = []
                        for index in 0..<20 {
                            let item = "\(thread)-\(index)"
                            do {
                                let response = try client.send(OutboundRequest(url: "\(baseURL)/item/\(item)"))
                                if response.status != 200 || response.bodyText != item {
                                    failures.append("\(item): \(response.status) \(response.bodyText)")
                                }
                            } catch {
                                failures.append("\(item): \(error)")
                            }
                        }
                        return failures
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(server.requests.count == 160)
        #expect(server.acceptedConnections < 160)  // idle handles reused their connections
    }
}
