import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing
@testable import HTTPServer

/// The access log as `serve` writes it: lines formatted on the I/O threads and
/// written in batches by ``AccessLogWriter``'s thread, to a real file or pipe.
@Suite("Access log writer")
struct AccessLogWriterTests {
    /// A text line as swift-log's StreamLogHandler writes one.
    static let textLine = try! NSRegularExpression(pattern:
        #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info test: bytes=(\d+) duration_ms=\d+\.\d{3} event-loop=\d method=([A-Z]+) path=(\S+) request-id=(\S+) status=(\d{3}) \[HTTPServer\] request$"#)

    static func fields(_ line: String) -> [String]? {
        let range = NSRange(line.startIndex..., in: line)
        guard let match = textLine.firstMatch(in: line, range: range) else { return nil }
        return (1..<match.numberOfRanges).map { String(line[Range(match.range(at: $0), in: line)!]) }
    }

    /// A server whose access log goes to `writer`; shut down (and so the writer closed) before returning.
    static func serve(writer: AccessLogWriter, _ body: (Int) throws -> Void) throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, ioThreads: 2, workerThreads: 4, accessLog: true)
        configuration.accessLogWriter = writer
        let server = try HTTPServer(configuration: configuration, router: makeTestRouter(), logger: LogCapture().logger(label: "test"))
        try server.start()
        defer { server.shutdown(gracePeriod: .seconds(2)) }
        try body(server.boundPort!)
    }

    static func temporaryFile() throws -> (fd: Int32, path: String) {
        let path = NSTemporaryDirectory() + "access-log-\(UUID().uuidString)"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        guard fd >= 0 else { throw TestSetupError(description: "open \(path): errno \(errno)") }
        return (fd, path)
    }

    static func lines(at path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)  // the last line ends with a newline too
    }

    @Test func everyLineCompleteAndInOrderPerConnection() throws {
        let (fd, path) = try Self.temporaryFile()
        defer { close(fd); unlink(path) }
        let connections = 8, requests = 250
        // A long interval: lines are written because 64 KiB are waiting, and the rest at shutdown.
        let writer = try AccessLogWriter(fd: fd, format: .text, label: "test", flushInterval: .seconds(30), logger: LogCapture().logger())
        try Self.serve(writer: writer) { port in
            let failures = TestCounter()
            let threads = (0..<connections).map { connection in
                TestThread {
                    do {
                        let client = try TestClient(port: port)
                        for request in 0..<requests {
                            let path = request % 2 == 0 ? "/healthz" : "/items/\(request)"
                            try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nX-Request-Id: c\(connection)-\(request)\r\n\r\n")
                            if try client.readResponse().status != 200 { failures.increment() }
                        }
                    } catch {
                        failures.increment()
                    }
                }
            }
            for thread in threads { try thread.join() }
            #expect(failures.current == 0)
        }
        let lines = try Self.lines(at: path)
        #expect(lines.count == connections * requests, "nothing lost below the bound")
        #expect(writer.droppedLines == 0)
        #expect(writer.writtenLines == connections * requests)
        var next = [Int](repeating: 0, count: connections)
        for line in lines {
            guard let fields = Self.fields(line) else {
                Issue.record("not a whole access-log line: \(line)")
                continue
            }
            let id = fields[3].dropFirst().split(separator: "-").compactMap { Int($0) }
            guard id.count == 2 else { Issue.record("request id \(fields[3])"); continue }
            #expect(id[1] == next[id[0]], "connection \(id[0]): request \(id[1]) logged after \(next[id[0]] - 1)")
            next[id[0]] = id[1] + 1
            #expect(fields[1] == "GET" && fields[4] == "200" && Int(fields[0])! > 0)
            #expect(fields[2] == (id[1] % 2 == 0 ? "/healthz" : "/items/\(id[1])"))
        }
    }

    @Test func linesWaitingAtShutdownAreWritten() throws {
        let (fd, path) = try Self.temporaryFile()
        defer { close(fd); unlink(path) }
        // Neither the interval nor the 64 KiB is reached: only closing writes them.
        let writer = try AccessLogWriter(fd: fd, format: .text, label: "test", flushInterval: .seconds(60), logger: LogCapture().logger())
        try Self.serve(writer: writer) { port in
            let client = try TestClient(port: port)
            for request in 0..<5 {
                try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: last-\(request)\r\n\r\n")
                _ = try client.readResponse()
            }
            usleep(50_000)
            #expect(try Self.lines(at: path).isEmpty, "still waiting in the buffer")
        }
        let lines = try Self.lines(at: path)
        #expect(lines.compactMap { Self.fields($0)?[3] } == (0..<5).map { "last-\($0)" })
    }

    @Test func jsonLines() throws {
        let (fd, path) = try Self.temporaryFile()
        defer { close(fd); unlink(path) }
        let writer = try AccessLogWriter(fd: fd, format: .json, label: "test \"quoted\"", logger: LogCapture().logger())
        try Self.serve(writer: writer) { port in
            let client = try TestClient(port: port)
            try client.send("GET /items/7?x=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: json-1\r\n\r\n")
            _ = try client.readResponse()
        }
        let lines = try Self.lines(at: path)
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(object?["level"] as? String == "info")
        #expect(object?["label"] as? String == "test \"quoted\"")
        #expect(object?["message"] as? String == "request")
        let timestamp = object?["timestamp"] as? String ?? ""
        #expect(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil, "\(timestamp)")
        let metadata = object?["metadata"] as? [String: Any]
        #expect(metadata?["request-id"] as? String == "json-1")
        #expect(metadata?["method"] as? String == "GET")
        #expect(metadata?["path"] as? String == "/items/7")
        #expect(metadata?["status"] as? Int == 200)
        #expect((metadata?["bytes"] as? Int ?? 0) > 0)
        #expect((metadata?["duration_ms"] as? String)?.contains(".") == true)
        #expect(metadata?["event-loop"] is Int)
    }

    /// A log nobody reads (a full pipe): requests are answered all the same, lines
    /// beyond the buffer are dropped, counted and said, and every line not dropped
    /// comes out whole once the pipe is read again.
    @Test func slowReaderDropsLinesAndSaysSo() throws {
        let metrics = RecordingMetrics.shared
        let droppedBefore = metrics.value("http_access_log_dropped_lines_total")?.total.withLock { $0 } ?? 0
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let logs = LogCapture()
        let writer = try AccessLogWriter(
            fd: ends[1], format: .text, label: "test", capacity: 16 << 10, flushInterval: .milliseconds(5), logger: logs.logger())
        var sent = 0
        let readEnd = ends[0]
        var reader: TestThread<[UInt8]>?
        try Self.serve(writer: writer) { port in
            let client = try TestClient(port: port)
            // The pipe holds 64 KiB and the buffer 16 KiB, some 500 lines in all: bursts
            // of 100 requests until lines are dropped (at most 100 bursts).
            for burst in 0..<100 {
                try client.send(String(repeating: "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: b\(burst)\r\n\r\n", count: 100))
                for _ in 0..<100 { #expect(try client.readResponse().status == 200, "answered while the log is stuck") }
                sent += 100
                if writer.droppedLines > 0 { break }
            }
            #expect(writer.droppedLines > 0, "a full pipe and a full buffer drop lines")
            // From here the pipe is read, so the lines still waiting can be written at shutdown.
            reader = TestThread {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = read(readEnd, &chunk, chunk.count)
                    if count > 0 { bytes += chunk[0..<count] } else if count < 0 && errno == EINTR { continue } else { return bytes }
                }
            }
        }
        close(ends[1])  // the writer is closed: the reader sees the end
        let text = String(decoding: try reader?.join() ?? [], as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(text.hasSuffix("\n"))
        #expect(lines.allSatisfy { Self.fields(String($0)) != nil }, "every line written is whole")
        #expect(lines.count + writer.droppedLines == sent, "each line either written or counted as dropped")
        #expect(writer.writtenLines == lines.count)
        let counted = (metrics.value("http_access_log_dropped_lines_total")?.total.withLock { $0 } ?? 0) - droppedBefore
        #expect(Int(counted) == writer.droppedLines, "the /metrics counter")
        let warnings = logs.messages(at: .warning).filter { $0.message.hasPrefix("access log lines dropped") }
        #expect(warnings.count >= 1)
        #expect(warnings.compactMap { Int($0.metadata["dropped"] ?? "") }.reduce(0, +) == writer.droppedLines)
    }
}
