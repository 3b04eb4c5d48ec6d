import Glibc
import Logging
import Synchronization
import TestSupport
import Testing
@testable import HTTPServer

extension EndToEnd {
    /// Start, stop, caps and resource exhaustion.
    @Suite("Lifecycle")
    struct Lifecycle {
        private func makeServer(
            logs: LogCapture = LogCapture(), configure: (inout HTTPServer.Configuration) -> Void = { _ in }
        ) throws -> HTTPServer {
            var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, ioThreads: 2, workerThreads: 4, accessLog: false)
            configure(&configuration)
            return try HTTPServer(configuration: configuration, router: makeTestRouter(), logger: logs.logger())
        }

        @Test func gracefulShutdownFinishesInFlightWorkAndRefusesNewConnections() throws {
            let server = try makeServer()
            try server.start()
            let port = server.boundPort!

            let busy = try TestClient(port: port)
            try busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            let idle = try TestClient(port: port)
            try idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try idle.readResponse().status == 200)
            usleep(50_000)  // /slow is now running on a worker

            let done = Atomic<UInt64>(0)
            let started = MonotonicClock.nanoseconds()
            let shutdownThread = try PosixThread.spawn(name: "test-shutdown") {
                server.shutdown(gracePeriod: .seconds(5))
                done.store(MonotonicClock.nanoseconds(), ordering: .sequentiallyConsistent)
            }

            #expect(idle.isClosedByPeer(), "idle connections are closed at once")
            #expect(eventually { (try? TestClient(port: port)) == nil }, "new connections are refused")

            let response = try busy.readResponse()
            #expect(response.text == "slow", "the in-flight request completes")
            #expect(response.header("Connection") == "close")
            #expect(busy.isClosedByPeer())

            shutdownThread.join()
            let took = Double(done.load(ordering: .sequentiallyConsistent) - started) / 1_000_000
            #expect(took < 2000, "shutdown waited for the in-flight request only (\(took) ms)")
            server.shutdown()  // idempotent
            #expect(server.boundPort == nil)
        }

        @Test func gracePeriodBoundsShutdown() throws {
            let server = try makeServer()
            try server.start()
            let client = try TestClient(port: server.boundPort!)
            try client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
            usleep(50_000)
            let elapsed = measureMilliseconds { server.shutdown(gracePeriod: .milliseconds(50)) }
            #expect(elapsed < 1000, "\(elapsed) ms")
            #expect(client.isClosedByPeer())
        }

        @Test func concurrentShutdownCallsAllReturnAfterStop() throws {
            let server = try makeServer()
            try server.start()
            let threads = try (0..<3).map { index in
                try PosixThread.spawn(name: "test-stop-\(index)") { server.shutdown(gracePeriod: .seconds(1)) }
            }
            for thread in threads { thread.join() }
            #expect(server.boundPort == nil)
        }

        @Test func portAlreadyInUseIsAClearError() throws {
            for loops in [1, 2] {
                let first = try makeServer { $0.ioThreads = loops }
                try first.start()
                defer { first.shutdown(gracePeriod: .milliseconds(100)) }
                let port = first.boundPort!
                let second = try makeServer { $0.port = port; $0.ioThreads = loops }
                #expect {
                    try second.start()
                } throws: { error in
                    guard let error = error as? SocketError else { return false }
                    return error.kind == .addressInUse && error.message.contains("port \(port) already in use")
                }
            }
        }

        @Test func startingTwiceAndBadConfigurationsAreErrors() throws {
            let server = try makeServer()
            try server.start()
            defer { server.shutdown(gracePeriod: .milliseconds(100)) }
            #expect(throws: HTTPServerError.self) { try server.start() }

            let bad = try makeServer { $0.workerThreads = 0 }
            #expect(throws: HTTPServerError.self) { try bad.start() }

            let unresolvable = try makeServer { $0.host = "no-such-host.invalid" }
            #expect(throws: SocketError.self) { try unresolvable.start() }
        }

        @Test func connectionCapClosesExtraConnections() throws {
            try withServer(configure: { $0.maxConnections = 3; $0.ioThreads = 1 }) { server, port in
                var clients: [TestClient] = []
                for _ in 0..<3 {
                    let client = try TestClient(port: port)
                    try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try client.readResponse().status == 200)
                    clients.append(client)
                }
                #expect(server.openConnections == 3)
                let extra = try TestClient(port: port)
                #expect(extra.isClosedByPeer(), "the fourth connection is closed at once")
                #expect(server.openConnections == 3)

                clients.removeLast()  // closes one
                #expect(eventually { server.openConnections == 2 })
                let next = try TestClient(port: port)
                try next.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try next.readResponse().status == 200)
            }
        }

        @Test func outOfDescriptorsPausesAcceptingAndRecovers() throws {
            let logs = LogCapture()
            try withServer(logs: logs, configure: { $0.ioThreads = 1; $0.acceptBackoff = .milliseconds(100) }) { _, port in
                // Client sockets exist before the limit drops; only the server's accept needs new ones.
                let sockets = (0..<3).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
                defer { for fd in sockets { Glibc.close(fd) } }
                var saved = rlimit()
                getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
                let lowestFree = open("/dev/null", O_RDONLY)
                Glibc.close(lowestFree)
                var lowered = saved
                // Below every descriptor already open, so a descriptor closed meanwhile by
                // another thread of the test process cannot end the episode early.
                lowered.rlim_cur = rlim_t(min(lowestFree, 8))
                setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered)

                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = UInt16(port).bigEndian
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                for fd in sockets {
                    let result = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                    #expect(result == 0)
                }
                usleep(350_000)  // several EMFILE retries
                setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)

                for fd in sockets {
                    let request = Array("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
                    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    var timeout = timeval(tv_sec: 3, tv_usec: 0)
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    var buffer = [UInt8](repeating: 0, count: 1024)
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    #expect(count > 0 && String(decoding: buffer[0..<max(count, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
                }
                let warnings = logs.entries.filter { $0.message.hasPrefix("accept failed") }
                #expect(warnings.count == 1, "logged once per episode, not per retry: \(logs.entries.map { "\($0.message) \($0.metadata)" })")
                #expect(warnings.first?.metadata["errno"] == String(EMFILE))
            }
        }

        @Test func manyIdleConnectionsWhileServingAnother() throws {
            let limit = raiseDescriptorLimit()
            let count = min(2000, (limit - 200) / 2)
            try withServer(configure: { $0.timeouts.idle = .seconds(30) }) { server, port in
                let before = residentBytes()
                var idle: [TestClient] = []
                idle.reserveCapacity(count)
                for _ in 0..<count { idle.append(try TestClient(port: port)) }
                #expect(eventually(timeout: .seconds(10)) { server.openConnections == count })
                let after = residentBytes()
                let cpuBefore = eventLoopCPUMilliseconds()
                usleep(300_000)
                let idleCPU = eventLoopCPUMilliseconds() - cpuBefore
                #expect(idleCPU < 40, "idle connections cost \(idleCPU) ms of loop CPU in 300 ms")

                let active = try TestClient(port: port)
                let elapsed = try measureMilliseconds {
                    for _ in 0..<100 {
                        try active.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                        #expect(try active.readResponse().status == 200)
                    }
                }
                #expect(elapsed < 2000, "100 requests took \(elapsed) ms beside \(count) idle connections")
                // Both ends live in this process, so this overstates the server's share.
                print("idle connections: \(count), RSS growth \((after - before) / count) bytes per connection (client and server sides)")
                #expect(server.openConnections == count + 1)
                idle.removeAll()
                #expect(eventually(timeout: .seconds(5)) { server.openConnections == 1 })
            }
        }

        @Test func terminationSignalsTakesABlockedSignal() {
            // SIGUSR2, blocked in this thread only and sent to this thread only: the test
            // process's other threads keep their masks, and none of them can receive it.
            var previous = sigset_t()
            pthread_sigmask(SIG_SETMASK, nil, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            TerminationSignals.block([SIGUSR2])
            #expect(TerminationSignals.next(of: [SIGUSR2], timeout: .milliseconds(50)) == nil)
            pthread_kill(pthread_self(), SIGUSR2)
            #expect(TerminationSignals.next(of: [SIGUSR2], timeout: .seconds(2)) == SIGUSR2)
            #expect(TerminationSignals.name(SIGTERM) == "SIGTERM")
        }
    }
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { Glibc.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
