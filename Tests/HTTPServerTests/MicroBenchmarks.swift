import Glibc
import HTTPTypes
import Testing
@testable import HTTPServer

/// Not tests: per-request CPU of the pure parts, run with HTTP_MICROBENCH=1 in release mode.
@Suite(.enabled(if: getenv("HTTP_MICROBENCH") != nil))
struct MicroBenchmarks {
    private func report(_ name: String, iterations: Int, _ body: () -> Void) {
        for _ in 0..<1000 { body() }
        let start = MonotonicClock.nanoseconds()
        for _ in 0..<iterations { body() }
        let ns = Double(MonotonicClock.nanoseconds() - start) / Double(iterations)
        print("\(name): \(Int(ns)) ns")
    }

    @Test func parseAndEncode() {
        let input = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n".utf8)
        let limits = HTTPServer.Limits()
        var parser = HTTPRequestParser()
        var sink = 0
        let parseIterations = Int(String(cString: getenv("HTTP_MICROBENCH_PARSE") ?? strdup("1000000"))) ?? 1_000_000
        report("parse", iterations: parseIterations) {
            input.withUnsafeBytes { bytes in
                if case .request(let parsed) = parser.parse(bytes, limits: limits).event { sink &+= parsed.request.path.utf8.count }
            }
        }
        var router = Router()
        router.get("/healthz", options: .inline) { _, _ in Response(text: "ok\n") }
        router.get("/v1/prospects/{id}") { _, _ in Response() }
        let tree = try! router.build()
        report("route", iterations: 1_000_000) {
            if case .found = tree.match(method: .get, rawPath: "/healthz") { sink &+= 1 }
        }
        report("handler", iterations: 1_000_000) { sink &+= Response(text: "ok\n").body.count }
        var encoder = ResponseEncoder(serverName: nil)
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        let response = Response(text: "ok\n")
        report("encode", iterations: 1_000_000) {
            out.removeAll(keepingCapacity: true)
            sink &+= encoder.encode(response, requestID: "abcdefghijklmno", connection: .none, omitBody: false, into: &out)
        }
        var ids = RequestID.Generator()
        report("request id", iterations: 1_000_000) { sink &+= ids.make().utf8.count }
        var metrics = LoopMetrics(enabled: true, routes: tree.routes)
        report("metrics", iterations: 1_000_000) { metrics.record(route: 0, method: "GET", status: 200, durationNanos: 1000) }
        report("clock", iterations: 1_000_000) { sink &+= Int(MonotonicClock.nanoseconds() & 1) }
        encoder.refreshDate(now: 1)
        print(sink)
    }
}
