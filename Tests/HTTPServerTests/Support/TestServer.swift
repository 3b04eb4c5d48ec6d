import Glibc
import HTTPTypes
import Logging
import Synchronization
import TestSupport
import Testing
@testable import HTTPServer

struct UnexpectedFailure: Error {
    let secret = "database password is hunter2"
}

/// The router most end-to-end tests use.
func makeTestRouter() -> Router {
    var router = Router()
    router.get("/healthz", options: .inline) { _, _ in Response(text: "ok") }
    router.get("/hello") { _, _ in Response(text: "hello") }
    router.post("/echo") { request, _ in Response(status: .ok, body: request.body) }
    router.get("/slow") { _, _ in
        usleep(400_000)
        return Response(text: "slow")
    }
    router.get("/fast", options: .inline) { _, _ in Response(text: "fast") }
    router.get("/fail") { _, _ in throw UnexpectedFailure() }
    router.get("/teapot") { _, _ in throw HTTPError(.init(code: 418, reasonPhrase: "I'm a teapot"), detail: "short and stout") }
    router.get("/items/{id}") { _, context in Response(text: "item \(try context.parameters.require("id"))") }
    router.put("/items/{id}") { request, context in
        Response(status: .created, text: "put \(context.parameters["id"] ?? "?") \(request.body.count)")
    }
    router.get("/request-id", options: .inline) { _, context in Response(text: context.requestID) }
    router.get("/close") { _, _ in
        var fields = HTTPFields()
        fields[.connection] = "close"
        return Response(status: .ok, headerFields: fields, text: "bye")
    }
    router.get("/big") { request, _ in
        let size = Int(request.query["size"] ?? "") ?? 1_000_000
        return Response(status: .ok, body: [UInt8](repeating: 0x61, count: size))
    }
    router.get("/query") { request, _ in
        Response(text: request.query.items.map { "\($0.name)=\($0.value)" }.joined(separator: ";"))
    }
    return router
}

/// Starts a server on 127.0.0.1:0 with test-friendly settings, runs `body`, shuts it down.
func withServer<T>(
    router: Router = makeTestRouter(), logs: LogCapture = LogCapture(),
    configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    _ body: (HTTPServer, Int) throws -> T
) throws -> T {
    var configuration = HTTPServer.Configuration(
        host: "127.0.0.1", port: 0, ioThreads: 2, workerThreads: 4, accessLog: false)
    configure(&configuration)
    let server = try HTTPServer(configuration: configuration, router: router, logger: logs.logger())
    try server.start()
    defer { server.shutdown(gracePeriod: .seconds(2)) }
    return try body(server, server.boundPort!)
}

/// Polls `condition` until true or `timeout`.
func eventually(timeout: Duration = .seconds(3), _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + timeout.nanoseconds
    while MonotonicClock.nanoseconds() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

/// Raises the soft descriptor limit to the hard limit (tests with thousands of sockets).
func raiseDescriptorLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_cur)
}

/// Elapsed milliseconds of `body`.
func measureMilliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = MonotonicClock.nanoseconds()
    try body()
    return Double(MonotonicClock.nanoseconds() - start) / 1_000_000
}
