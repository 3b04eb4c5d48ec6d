import Dispatch
import Glibc
import HTTPTypes
import Synchronization
import Testing
@testable import HTTPServer

/// Handlers that block until the test opens the gate, counting how many started.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    let started = Atomic<Int>(0)

    /// Lets every blocked handler (and any that come later) through.
    func open(_ count: Int = 1000) {
        for _ in 0..<count { semaphore.signal() }
    }

    var startedCount: Int { started.load(ordering: .sequentiallyConsistent) }

    /// Blocks the calling handler until `open` (10 s at the most).
    func waitUntilOpen() {
        _ = semaphore.wait(timeout: .now() + .seconds(10))
    }

    func router() -> Router {
        var router = makeTestRouter()
        router.get("/blocked") { [self] _, _ in
            started.add(1, ordering: .sequentiallyConsistent)
            _ = semaphore.wait(timeout: .now() + .seconds(10))
            return Response(text: "done")
        }
        router.post("/blocked-upload") { [self] request, _ in
            started.add(1, ordering: .sequentiallyConsistent)
            _ = semaphore.wait(timeout: .now() + .seconds(10))
            return Response(text: "got \(request.body.count)")
        }
        return router
    }
}

extension EndToEnd {
    /// Admission control: a bounded wait for a worker, the excess answered at once.
    @Suite("Admission control")
    struct Admission {
        static let get = "GET /blocked HTTP/1.1\r\nHost: t\r\n\r\n"

        private func expectShed(_ response: WireResponse, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == 503, sourceLocation: sourceLocation)
            #expect(response.header("Retry-After") == "2", sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
            #expect(response.header("X-Request-Id") != nil, sourceLocation: sourceLocation)
            #expect(response.text.contains(#""status":503"#), sourceLocation: sourceLocation)
        }

        @Test func excessBeyondTheQueueBoundIsShedAtOnceWhileHealthzAnswers() throws {
            let gate = Gate()
            defer { gate.open() }
            let metrics = RecordingMetrics.shared
            let shedBefore = metrics.value("http_requests_shed_total", [("reason", "queue_full")])?.total.withLock { $0 } ?? 0
            try withServer(router: gate.router(), configure: {
                $0.workerThreads = 2
                $0.admission.maxQueuedRequests = 2
                $0.admission.maxQueueWait = .seconds(30)
                $0.metrics = true
            }) { _, port in
                // Both workers busy…
                let running = try (0..<2).map { _ in try TestClient(port: port) }
                for client in running { try client.send(Self.get) }
                #expect(eventually { gate.startedCount == 2 })
                // …two wait in the queue…
                let queued = try (0..<2).map { _ in try TestClient(port: port) }
                for client in queued { try client.send(Self.get) }
                usleep(50_000)
                // …and the rest are answered 503 at once, without waiting for a worker.
                let excess = try (0..<6).map { _ in try TestClient(port: port, timeout: .seconds(2)) }
                var slowest = 0.0
                for client in excess {
                    let elapsed = try measureMilliseconds {
                        try client.send(Self.get)
                        expectShed(try client.readResponse())
                    }
                    slowest = max(slowest, elapsed)
                }
                #expect(slowest < 500, "a shed request waited \(slowest) ms")
                #expect(gate.startedCount == 2, "no shed request ran")

                // Inline routes are never shed.
                let probe = try TestClient(port: port, timeout: .seconds(2))
                for _ in 0..<3 {
                    try probe.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try probe.readResponse().text == "ok")
                }
                // A shed connection stays open (the request was read whole) and is shed again
                // while the queue is full.
                try excess[0].send(Self.get)
                expectShed(try excess[0].readResponse())

                // The burst ends: everything admitted completes, and service is normal again.
                gate.open()
                for client in running + queued {
                    #expect(try client.readResponse().text == "done")
                }
                for client in excess {
                    try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try client.readResponse().text == "hello")
                }
            }
            let shed = metrics.value("http_requests_shed_total", [("reason", "queue_full")])?.total.withLock { $0 } ?? 0
            #expect(shed - shedBefore == 7)
        }

        @Test func aRequestWaitingTooLongForAWorkerIsShedAndNeverRuns() throws {
            let gate = Gate()
            defer { gate.open() }
            try withServer(router: gate.router(), configure: {
                $0.workerThreads = 1
                $0.admission.maxQueueWait = .milliseconds(300)
            }) { _, port in
                let running = try TestClient(port: port)
                try running.send(Self.get)
                #expect(eventually { gate.startedCount == 1 })

                let waiting = try TestClient(port: port)
                let elapsed = try measureMilliseconds {
                    try waiting.send(Self.get)
                    expectShed(try waiting.readResponse())
                }
                #expect(elapsed >= 250 && elapsed < 2000, "shed after \(elapsed) ms")

                // The running request is not cut short, the withdrawn one never runs, and the
                // shed connection serves its next request normally.
                gate.open()
                #expect(try running.readResponse().text == "done")
                try waiting.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try waiting.readResponse().text == "hello")
                #expect(gate.startedCount == 1)
            }
        }

        @Test func aStartedRequestOutlastsTheQueueWait() throws {
            try withServer(configure: {
                $0.workerThreads = 1
                $0.admission.maxQueueWait = .milliseconds(100)
            }) { _, port in
                let client = try TestClient(port: port)
                try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")  // 400 ms on the worker
                #expect(try client.readResponse().text == "slow")
            }
        }

        @Test func aQueuedRequestOfAResetConnectionNeverRuns() throws {
            let gate = Gate()
            defer { gate.open() }
            try withServer(router: gate.router(), configure: { $0.workerThreads = 1 }) { _, port in
                let running = try TestClient(port: port)
                try running.send(Self.get)
                #expect(eventually { gate.startedCount == 1 })
                do {
                    let gone = try TestClient(port: port)
                    try gone.send(Self.get)
                    usleep(50_000)
                    // Abortive close: the server sees a reset, closes its side and withdraws
                    // the queued request.
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(gone.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                }
                usleep(100_000)
                gate.open()
                #expect(try running.readResponse().text == "done")
                let next = try TestClient(port: port)
                try next.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try next.readResponse().text == "hello")
                #expect(gate.startedCount == 1)
            }
        }

        @Test func expectContinueIsRefusedBeforeTheBodyWhenTheQueueIsFull() throws {
            let gate = Gate()
            defer { gate.open() }
            try withServer(router: gate.router(), configure: {
                $0.workerThreads = 1
                $0.admission.maxQueuedRequests = 0
            }) { _, port in
                let running = try TestClient(port: port)
                try running.send(Self.get)
                #expect(eventually { gate.startedCount == 1 })
                let uploader = try TestClient(port: port)
                try uploader.send(
                    "POST /blocked-upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
                let response = try uploader.readResponse()
                expectShed(response)
                #expect(response.header("Connection") == "close")
                gate.open()
                #expect(try running.readResponse().text == "done")
            }
        }

        @Test func theOverloadResponseIsConfigurable() throws {
            let gate = Gate()
            defer { gate.open() }
            var fields = HTTPFields()
            fields[.retryAfter] = "7"
            let custom = Response.problem(
                status: .serviceUnavailable, detail: "Busy.", type: "urn:example:problem:overloaded",
                title: "Overloaded", headerFields: fields)
            try withServer(router: gate.router(), configure: {
                $0.workerThreads = 1
                $0.admission.maxQueuedRequests = 0
                $0.admission.overloadResponse = custom
            }) { _, port in
                let running = try TestClient(port: port)
                try running.send(Self.get)
                #expect(eventually { gate.startedCount == 1 })
                let client = try TestClient(port: port)
                try client.send("HEAD /blocked HTTP/1.1\r\nHost: t\r\n\r\n")
                let head = try client.readResponse(headRequest: true)
                #expect(head.status == 503 && head.header("Retry-After") == "7")
                try client.send(Self.get)
                let response = try client.readResponse()
                #expect(response.status == 503)
                #expect(response.text.contains(#""type":"urn:example:problem:overloaded""#))
                gate.open()
                #expect(try running.readResponse().text == "done")
            }
        }

        @Test func anAdmissionCheckAnswersOnTheLoopWithoutAWorker() throws {
            let gate = Gate()
            defer { gate.open() }
            let checked = Atomic<Int>(0)
            try withServer(router: gate.router(), configure: {
                $0.workerThreads = 1
                $0.admission.check = { request in
                    checked.add(1, ordering: .sequentiallyConsistent)
                    guard request.headerFields[HTTPField.Name("X-Deny")!] != nil else { return nil }
                    var fields = HTTPFields()
                    fields[.retryAfter] = "1"
                    return .problem(status: .tooManyRequests, detail: "Slow down.", headerFields: fields)
                }
            }) { _, port in
                let running = try TestClient(port: port)
                try running.send(Self.get)
                #expect(eventually { gate.startedCount == 1 })
                // The only worker is busy: the refusal still comes at once.
                let client = try TestClient(port: port, timeout: .seconds(2))
                let elapsed = try measureMilliseconds {
                    try client.send("GET /blocked HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\n\r\n")
                    let refused = try client.readResponse()
                    #expect(refused.status == 429 && refused.header("Retry-After") == "1")
                }
                #expect(elapsed < 500)
                // Inline routes are not checked.
                let before = checked.load(ordering: .sequentiallyConsistent)
                try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\n\r\n")
                #expect(try client.readResponse().status == 200)
                #expect(checked.load(ordering: .sequentiallyConsistent) == before)
                // A request the check lets through is queued and served.
                try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                gate.open()
                #expect(try running.readResponse().text == "done")
                client.setTimeout(.seconds(5))
                #expect(try client.readResponse().text == "hello")
                #expect(gate.startedCount == 1)
            }
        }

        @Test func workersRunAtALowerPriorityThanTheLoops() throws {
            var router = makeTestRouter()
            router.get("/niceness") { _, _ in Response(text: "\(LinuxAPI.currentThreadNiceness() ?? -100)") }
            router.get("/loop-niceness", options: .inline) { _, _ in Response(text: "\(LinuxAPI.currentThreadNiceness() ?? -100)") }
            let base = try #require(LinuxAPI.currentThreadNiceness())
            for niceness in [0, 7] {
                try withServer(router: router, configure: { $0.workerNiceness = niceness }) { _, port in
                    let client = try TestClient(port: port)
                    try client.send("GET /niceness HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try client.readResponse().text == "\(min(19, base + Int32(niceness)))")
                    try client.send("GET /loop-niceness HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try client.readResponse().text == "\(base)")
                }
            }
        }

        @Test func defaultsAndInvalidSettings() throws {
            var configuration = HTTPServer.Configuration(workerThreads: 32)
            #expect(configuration.effectiveMaxQueuedRequests == 128)
            #expect(configuration.admission.maxQueueWait == .seconds(5))
            configuration.admission.maxQueuedRequests = 10
            #expect(configuration.effectiveMaxQueuedRequests == 10)

            for bad in [
                { (c: inout HTTPServer.Configuration) in c.admission.maxQueuedRequests = -1 },
                { (c: inout HTTPServer.Configuration) in c.admission.maxQueueWait = .zero },
                { (c: inout HTTPServer.Configuration) in c.workerNiceness = 20 },
            ] {
                var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, ioThreads: 1, workerThreads: 1)
                bad(&configuration)
                let server = try HTTPServer(configuration: configuration, router: makeTestRouter())
                #expect(throws: HTTPServerError.self) { try server.start() }
            }
        }
    }
}
