import Glibc
import Testing
@testable import HTTPServer

extension EndToEnd {
    /// Each timeout with a 200 ms setting so the tests stay quick.
    @Suite("Timeouts")
    struct Timeouts {
        private func shortTimeouts(_ configuration: inout HTTPServer.Configuration) {
            configuration.timeouts = HTTPServer.Timeouts(
                headerRead: .milliseconds(200), bodyRead: .milliseconds(200), idle: .milliseconds(200),
                write: .milliseconds(200), lingeringClose: .milliseconds(200))
        }

        @Test func idleConnectionIsClosedSilently() throws {
            try withServer(configure: shortTimeouts) { server, port in
                let client = try TestClient(port: port)
                try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == 200)
                var closed = false
                let elapsed = measureMilliseconds { closed = client.isClosedByPeer() }
                #expect(closed)
                #expect(elapsed >= 150 && elapsed < 1500, "closed after \(elapsed) ms")
                #expect(client.readToEnd().isEmpty, "idle close sends nothing")
                #expect(eventually { server.openConnections == 0 })
            }
        }

        @Test func newConnectionThatSendsNothingIsClosed() throws {
            try withServer(configure: shortTimeouts) { _, port in
                let client = try TestClient(port: port)
                #expect(client.isClosedByPeer())
            }
        }

        @Test func partialHeadGets408ThenClose() throws {
            try withServer(configure: shortTimeouts) { _, port in
                let client = try TestClient(port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
                let elapsed = try measureMilliseconds {
                    let response = try client.readResponse()
                    #expect(response.status == 408)
                    #expect(response.header("Connection") == "close")
                }
                #expect(elapsed >= 150 && elapsed < 1500, "408 after \(elapsed) ms")
                #expect(client.isClosedByPeer())
            }
        }

        @Test func headerTimeoutCountsFromTheFirstByte() throws {
            // Slowloris: a byte every 50 ms keeps the connection busy but must not extend the
            // deadline, which counts from the first byte of the request.
            try withServer(configure: shortTimeouts) { _, port in
                let client = try TestClient(port: port)
                let elapsed = try measureMilliseconds {
                    try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
                    for _ in 0..<6 {
                        usleep(50_000)
                        try client.send("X")
                    }
                    let response = try client.readResponse()
                    #expect(response.status == 408)
                }
                // Refreshing the deadline per byte would put the 408 at >= 500 ms.
                #expect(elapsed >= 290 && elapsed < 480, "\(elapsed) ms")
            }
        }

        @Test func waitingForTheRestOfARequestCostsNoCPU() throws {
            try withServer(configure: { $0.timeouts.headerRead = .seconds(5) }) { _, port in
                let client = try TestClient(port: port)
                try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Partial: ")
                usleep(50_000)
                let before = eventLoopCPUMilliseconds()
                usleep(400_000)
                let used = eventLoopCPUMilliseconds() - before
                #expect(used < 40, "event loops used \(used) ms of CPU while waiting")
                try client.send("yes\r\n\r\n")
                #expect(try client.readResponse().text == "hello")
            }
        }

        @Test func slowBodyGets408() throws {
            try withServer(configure: shortTimeouts) { _, port in
                let client = try TestClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(response.text.contains("body"))
                #expect(client.isClosedByPeer())
            }
        }

        @Test func clientThatDoesNotReadIsClosed() throws {
            try withServer(configure: shortTimeouts) { server, port in
                let client = try TestClient(port: port)
                var small: Int32 = 4096
                setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
                try client.send("GET /big?size=20000000 HTTP/1.1\r\nHost: t\r\n\r\n")
                // Do not read: the server's send buffer fills, no progress for 200 ms → close.
                #expect(eventually(timeout: .seconds(5)) { server.openConnections == 0 })
                let received = client.readToEnd()
                #expect(received.count < 20_000_000)
            }
        }

        @Test func slowHandlerIsNotATimeout() throws {
            // Handler time is the server's business; only client-side waits are timed.
            try withServer(configure: shortTimeouts) { _, port in
                let client = try TestClient(port: port)
                try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().text == "slow")
            }
        }
    }
}

/// CPU time (user + system) of this process's event-loop threads, from /proc/self/task.
func eventLoopCPUMilliseconds() -> Double {
    func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }
    guard let directory = opendir("/proc/self/task") else { return 0 }
    defer { closedir(directory) }
    var ticks = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard name.first?.isNumber == true, let comm = read("/proc/self/task/\(name)/comm"), comm.hasPrefix("http-io"),
              let stat = read("/proc/self/task/\(name)/stat"), let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) ... utime(11) stime(12).
        if fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) { ticks += user + system }
    }
    return Double(ticks) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
}
