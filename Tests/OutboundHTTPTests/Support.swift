import Foundation
import OutboundHTTP

/// Runs blocking work on a thread of its own and awaits the result, so tests follow the same
/// rule as production code: `OutboundHTTPClient.send` never runs on the cooperative pool.
func onWorkerThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.start()
    }
}

/// The outcome of one `send`, with the wall-clock time it took.
struct Outcome: Sendable {
    var result: Result<OutboundResponse, OutboundHTTPError>
    var elapsed: Duration

    var response: OutboundResponse? { try? result.get() }
    var error: OutboundHTTPError? {
        if case .failure(let error) = result { return error }
        return nil
    }
}

extension OutboundHTTPClient {
    /// `send` on a worker thread.
    func sendOffPool(_ request: OutboundRequest) async -> Outcome {
        await onWorkerThread { self.sendTimed(request) }
    }

    /// `send`, blocking this thread, with the time it took.
    func sendTimed(_ request: OutboundRequest) -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let result = Result { () throws(OutboundHTTPError) -> OutboundResponse in try self.send(request) }
        return Outcome(result: result, elapsed: clock.now - start)
    }
}

extension OutboundResponse {
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// The canned answers most tests use, chosen by request target.
let standardRoutes: @Sendable (LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Reply = { request in
    typealias Server = LoopbackHTTPServer
    let target = request.target
    switch target {
    case "/healthz":
        return .respond(Server.response(status: 200, reason: "OK", headers: [("Content-Type", "text/plain"), ("X-Probe", "  spaced value  ")], body: Array("ok\n".utf8)))
    case "/v1/whoami":
        // The one credential pair the tests use: connector / "s3cr:et wörd".
        if request.header("Authorization") == "Basic Y29ubmVjdG9yOnMzY3I6ZXQgd8O2cmQ=" {
            return .respond(Server.response(status: 200, reason: "OK", body: Array("connector".utf8)))
        }
        return .respond(Server.response(status: 401, reason: "Unauthorized", headers: [("WWW-Authenticate", "Basic realm=\"receiver\"")], body: Array("{\"title\":\"Unauthorized\"}".utf8)))
    case "/echo":
        return .respond(Server.response(status: 200, reason: "OK", headers: [("X-Method", request.method)], body: request.body))
    case "/hang":
        return .hang
    case "/close":
        return .close
    case "/garbage":
        return .respond(Array("this is not HTTP\r\n\r\n".utf8))
    case "/continue":
        // An unsolicited interim response, then the real one: two header blocks.
        return .respond(Array("HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n".utf8)
            + Server.response(status: 200, reason: "OK", headers: [("X-Final", "yes")], body: Array("done".utf8)))
    case "/folded":
        return .respond(Array("HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 0\r\n\r\n".utf8))
    case "/redirect":
        return .respond(Server.response(status: 302, reason: "Found", headers: [("Location", "/healthz"), ("X-First", "yes")]))
    case "/redirect-ftp":
        return .respond(Server.response(status: 302, reason: "Found", headers: [("Location", "ftp://127.0.0.1:21/file")]))
    case "/redirect-loop":
        return .respond(Server.response(status: 302, reason: "Found", headers: [("Location", "/redirect-loop")]))
    case "/big-headers":
        return .respond(Server.response(status: 200, reason: "OK", headers: [("X-Padding", String(repeating: "a", count: 2000))]))
    case "/stream-2MiB":
        // No Content-Length: only the write callback can notice the body is too big.
        return .stream { write in
            guard write(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)[...]) else { return }
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            let framed = Array("10000\r\n".utf8) + chunk + Array("\r\n".utf8)
            for _ in 0..<32 { guard write(framed[...]) else { return } }
            _ = write(Array("0\r\n\r\n".utf8)[...])
        }
    default:
        if target.hasPrefix("/bytes/"), let count = Int(target.dropFirst("/bytes/".count)) {
            return .respond(Server.response(status: 200, reason: "OK", body: [UInt8](repeating: UInt8(ascii: "b"), count: count)))
        }
        if target.hasPrefix("/item/") {
            return .respond(Server.response(status: 200, reason: "OK", body: Array(target.dropFirst("/item/".count).utf8)))
        }
        return .respond(Server.response(status: 404, reason: "Not Found"))
    }
}
