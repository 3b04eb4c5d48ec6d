import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `serve`'s access log as shipped (on, text, standard error): a line per request,
/// written by its own thread, every line whole and none lost, also the last ones
/// at shutdown.
@Suite struct AccessLogTests {
    @Test func everyRequestHasOneWholeLineAlsoTheLastOnesAtShutdown() throws {
        try TurnupDatabase.with { database in
            let server = try ReceiverProcess(environment: ["DATABASE_URL": database.url, "RECEIVER_LOG_FORMAT": ""])
            try server.waitUntilListening()
            for _ in 0..<199 { #expect(try server.get("/healthz").status == 200) }
            let metrics = String(decoding: try server.get("/metrics").body, as: UTF8.self)
            #expect(metrics.contains("\nhttp_access_log_dropped_lines_total 0"), "the drop counter is on /metrics")
            #expect(try server.get("/nope").status == 404)
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)

            let line = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info connector-receiver: bytes=\d+ duration_ms=\d+\.\d{3} event-loop=\d+ method=GET path=(\S+) request-id=\S+ status=(\d{3}) \[HTTPServer\] request$"#
            let requests = server.log.split(separator: "\n").filter { $0.hasSuffix("] request") }
            #expect(requests.count == 201, "\(server.log.suffix(2000))")
            #expect(requests.allSatisfy { $0.range(of: line, options: .regularExpression) != nil })
            #expect(requests.filter { $0.contains("path=/healthz") && $0.contains("status=200") }.count == 199)
            #expect(requests.last?.contains("path=/nope") == true && requests.last?.contains("status=404") == true,
                    "the last request's line, written at shutdown, in order")
        }
    }
}
