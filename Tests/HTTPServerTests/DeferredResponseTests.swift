import Dispatch
import Glibc
import HTTPTypes
import Synchronization
import Testing
@testable import HTTPServer

/// Handlers that return at once and answer later, from another thread.
final class Postponed: Sendable {
    /// Responses waiting for the test to release them, in arrival order.
    let waiting = Mutex<[DeferredResponse]>([])

    var count: Int { waiting.withLock { $0.count } }

    /// Completes the oldest waiting response with `text`.
    func release(_ text: String) {
        let deferred = waiting.withLock { $0.removeFirst() }
        DispatchQueue.global().async { deferred.complete(Response(text: text)) }
    }

    func router() -> Router {
        var router = makeTestRouter()
        router.get("/later", options: [.inline, .admitted]) { [self] _, context in
            guard let deferred = context.deferResponse() else { return Response(text: "no server") }
            waiting.withLock { $0.append(deferred) }
            return Response(text: "never sent")
        }
        router.get("/later-on-worker") { [self] _, context in
            guard let deferred = context.deferResponse() else { return Response(text: "no server") }
            waiting.withLock { $0.append(deferred) }
            return Response(text: "never sent")
        }
        router.get("/dropped", options: .inline) { _, context in
            _ = context.deferResponse()  // and never completed
            return Response(text: "never sent")
        }
        router.get("/twice", options: .inline) { _, context in
            let deferred = context.deferResponse()
            deferred?.complete(Response(text: "first"))
            deferred?.complete(Response(text: "second"))
            return Response(text: "never sent")
        }
        router.get("/handed-to-worker", options: .inline) { request, context in
            context.deferResponse()?.completeOnWorker({ _, context in
                // Blocking is fine here: this runs on a worker.
                usleep(10_000)
                if context.parameters["fail"] != nil { throw HTTPError(.notFound, detail: "nothing here") }
                return Response(text: "worked")
            }, request: request, context: context)
            return Response(text: "never sent")
        }
        return router
    }
}

extension EndToEnd {
    @Suite("Deferred responses")
    struct Deferred {
        @Test func aDeferredResponseIsSentWhenCompletedAndTheConnectionWaitsForIt() throws {
            let postponed = Postponed()
            try withServer(router: postponed.router()) { _, port in
                let client = try TestClient(port: port, timeout: .seconds(5))
                // Pipelined: the second request is not served before the first is answered.
                try client.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(eventually { postponed.count == 1 })
                usleep(100_000)
                postponed.release("at last")
                #expect(try client.readResponse().text == "at last")
                #expect(try client.readResponse().text == "hello")

                // The same from a handler on a worker, which is then free for other requests.
                try client.send("GET /later-on-worker HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(eventually { postponed.count == 1 })
                let other = try TestClient(port: port, timeout: .seconds(5))
                try other.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try other.readResponse().text == "hello")
                postponed.release("from elsewhere")
                #expect(try client.readResponse().text == "from elsewhere")
            }
        }

        @Test func manyDeferredResponsesCompletedInAnyOrderReachTheirOwnConnections() throws {
            let postponed = Postponed()
            try withServer(router: postponed.router()) { _, port in
                let clients = try (0..<20).map { _ in try TestClient(port: port, timeout: .seconds(5)) }
                for client in clients { try client.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n") }
                #expect(eventually { postponed.count == 20 })
                let all = postponed.waiting.withLock { waiting in
                    defer { waiting = [] }
                    return waiting
                }
                // Completed from many threads at once, in reverse.
                DispatchQueue.concurrentPerform(iterations: all.count) { index in
                    all[all.count - 1 - index].complete(Response(text: "answer \(all.count - 1 - index)"))
                }
                let texts = try clients.map { try $0.readResponse().text }
                #expect(Set(texts) == Set((0..<20).map { "answer \($0)" }))
            }
        }

        @Test func onlyTheFirstCompletionCountsAndAnUnansweredOneIsA500() throws {
            try withServer(router: Postponed().router()) { _, port in
                let client = try TestClient(port: port, timeout: .seconds(5))
                try client.send("GET /twice HTTP/1.1\r\nHost: t\r\n\r\nGET /dropped HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().text == "first")
                let dropped = try client.readResponse()
                #expect(dropped.status == 500)
                #expect(dropped.text.contains("ended without an answer"))
                #expect(try client.readResponse().text == "hello")
            }
        }

        @Test func aDeferredResponseCanBeHandedToAWorker() throws {
            try withServer(router: Postponed().router()) { _, port in
                let client = try TestClient(port: port, timeout: .seconds(5))
                try client.send("GET /handed-to-worker HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().text == "worked")
            }
        }

        @Test func aHandOffToAFullWorkerQueueIsAnsweredOverloadedAtOnce() throws {
            let gate = Gate()
            defer { gate.open() }
            var router = Postponed().router()
            router.get("/blocked") { _, _ in
                gate.started.add(1, ordering: .sequentiallyConsistent)
                gate.waitUntilOpen()
                return Response(text: "done")
            }
            try withServer(router: router, configure: {
                $0.workerThreads = 1
                $0.admission.maxQueuedRequests = 1
            }) { server, port in
                // The one worker busy and the one place in its queue taken, both until the gate opens.
                let busy = try (0..<2).map { _ in try TestClient(port: port, timeout: .seconds(10)) }
                for client in busy { try client.send("GET /blocked HTTP/1.1\r\nHost: t\r\n\r\n") }
                #expect(eventually { gate.startedCount == 1 && server.requestsWaitingForWorkers == 1 })
                let client = try TestClient(port: port, timeout: .seconds(5))
                try client.send("GET /handed-to-worker HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 503)
                #expect(response.header("Retry-After") != nil)
                gate.open()
                for client in busy { #expect(try client.readResponse().text == "done") }
            }
        }

        @Test func aConnectionClosedBeforeItsDeferredResponseLosesNothingElse() throws {
            let postponed = Postponed()
            try withServer(router: postponed.router()) { _, port in
                let client = try TestClient(port: port, timeout: .seconds(5))
                try client.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(eventually { postponed.count == 1 })
                client.shutdownWrite()
                usleep(100_000)
                postponed.release("nobody listens")  // dropped: the connection is gone
                let next = try TestClient(port: port, timeout: .seconds(5))
                try next.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try next.readResponse().text == "hello")
            }
        }

        @Test func aContextBuiltByHandCannotDefer() {
            var context = RequestContext(requestID: "r", logger: .init(label: "test"))
            #expect(context.deferResponse() == nil)
        }
    }
}
