import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A tiny, real HTTP/1.1 server on 127.0.0.1 for the client tests: POSIX sockets, one thread
/// accepting and one thread per connection, canned answers chosen by a handler, and every
/// request recorded byte for byte so tests can assert on what actually went over the wire.
///
/// It understands just enough HTTP for libcurl's requests (Content-Length bodies, keep-alive);
/// it is not a model for the production server.
final class LoopbackHTTPServer: Sendable {
    struct Request: Sendable {
        /// Everything received for this request: request line, header section and body.
        var raw: [UInt8]
        var method: String
        var target: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        var rawText: String { String(decoding: raw, as: UTF8.self) }
    }

    enum Reply: Sendable {
        /// Write these bytes, then keep the connection for the next request.
        case respond([UInt8])
        /// Write the bytes produced by the closure piecewise (for large streamed bodies).
        case stream(@Sendable (_ write: (ArraySlice<UInt8>) -> Bool) -> Void)
        /// Accept the request and never answer; hold the connection until the client gives up.
        case hang
        /// Close the connection without a word.
        case close
    }

    let port: Int
    private let listener: Int32
    private let handler: @Sendable (Request) -> Reply
    private struct State {
        var requests: [Request] = []
        var openConnections: Set<Int32> = []
        var acceptedConnections = 0
        var stopped = false
        var listenerClosed = false
    }
    private let state = Mutex(State())

    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        // The server writes to sockets libcurl may already have closed (oversized bodies).
        signal(SIGPIPE, SIG_IGN)
        let (fd, port) = try Self.bindLoopback(listen: true, backlog: 128)
        self.listener = fd
        self.port = port
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "loopback-accept-\(port)"
        thread.start()
    }

    /// `http://127.0.0.1:<port>`
    var baseURL: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] { state.withLock { $0.requests } }
    var acceptedConnections: Int { state.withLock { $0.acceptedConnections } }

    /// Stops accepting and cuts every open connection. Call it when done: the server's threads
    /// keep it alive until then. Each descriptor is still closed only by
    /// the thread that owns it; `shutdown` here just wakes that thread.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            if !state.listenerClosed { _ = shutdown(listener, Int32(SHUT_RDWR)) }
            for fd in state.openConnections { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: - Accepting

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno == EMFILE || errno == ENFILE, !state.withLock({ $0.stopped }) {
                    usleep(10_000)  // back off instead of spinning; a connection will close
                    continue
                }
                break
            }
            let admitted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.openConnections.insert(fd)
                state.acceptedConnections += 1
                return true
            }
            guard admitted else { close(fd); break }
            let thread = Thread { [self] in serve(fd) }
            thread.start()
        }
        state.withLock { state in
            state.listenerClosed = true
            close(listener)
        }
    }

    // MARK: - One connection

    private func serve(_ fd: Int32) {
        defer {
            state.withLock { state in
                state.openConnections.remove(fd)
                close(fd)  // under the lock, so stop() never shuts down a recycled descriptor number
            }
        }
        var buffer: [UInt8] = []
        while true {
            let request: Request
            switch readRequest(fd, buffer: &buffer) {
            case .request(let received): request = received
            case .closed: return
            case .notHTTP:
                // What real servers do with, say, a TLS ClientHello: 400, then hang up.
                _ = writeAll(fd, Array("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8)[...])
                return
            }
            state.withLock { $0.requests.append(request) }
            switch handler(request) {
            case .respond(let bytes):
                guard writeAll(fd, bytes[...]) else { return }
            case .stream(let produce):
                produce { writeAll(fd, $0) }
            case .hang:
                var scratch = [UInt8](repeating: 0, count: 4096)
                while recv(fd, &scratch, scratch.count, 0) > 0 {}  // until the client hangs up
                return
            case .close:
                return
            }
            if request.header("Connection")?.lowercased() == "close" { return }
        }
    }

    private enum ReadResult {
        case request(Request)
        /// The first byte cannot start a request line.
        case notHTTP
        /// EOF or an error before a complete request.
        case closed
    }

    /// Reads one request (header section plus Content-Length body).
    private func readRequest(_ fd: Int32, buffer: inout [UInt8]) -> ReadResult {
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd = 0
        while true {
            if let first = buffer.first, !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) { return .notHTTP }
            if let range = buffer.firstRange(of: terminator) { headerEnd = range.upperBound; break }
            guard readMore(fd, into: &buffer) else { return .closed }
        }
        let head = String(decoding: buffer[..<(headerEnd - 4)], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        guard requestLine.count == 3 else { return .notHTTP }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while buffer.count < headerEnd + length {
            guard readMore(fd, into: &buffer) else { return .closed }
        }
        let raw = Array(buffer[..<(headerEnd + length)])
        buffer.removeFirst(headerEnd + length)
        return .request(Request(
            raw: raw,
            method: requestLine[0],
            target: requestLine[1],
            headers: headers,
            body: Array(raw[headerEnd...])
        ))
    }

    private func readMore(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 { buffer.append(contentsOf: chunk[..<count]); return true }
            if count < 0, errno == EINTR { continue }
            return false
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var remaining = bytes
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            remaining = remaining.dropFirst(written)
        }
        return true
    }

    // MARK: - Sockets

    struct SocketError: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    /// A TCP socket bound to 127.0.0.1 on a kernel-chosen port, optionally listening.
    static func bindLoopback(listen shouldListen: Bool, backlog: Int32) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let code = errno; close(fd); throw SocketError(call: "bind", code: code) }
        if shouldListen {
            guard listen(fd, backlog) == 0 else { let code = errno; close(fd); throw SocketError(call: "listen", code: code) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { let code = errno; close(fd); throw SocketError(call: "getsockname", code: code) }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A loopback port with nothing listening: bound (so the kernel picked it), then closed.
    static func closedPort() throws -> Int {
        let (fd, port) = try bindLoopback(listen: false, backlog: 0)
        close(fd)
        return port
    }

    /// HTTP/1.1 response bytes with a Content-Length.
    static func response(
        status: Int,
        reason: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// A listening socket that never accepts, so nothing ever answers.
///
/// Plain: the kernel still completes TCP handshakes into the accept queue, so a client connects
/// and then waits — for a response, or for a TLS ServerHello. With `fillAcceptQueue`, the queue
/// (backlog 0: Linux holds one connection) is filled first, so the kernel drops further SYNs and
/// a client's connect itself stalls — a connect timeout without leaving loopback.
final class UnresponsiveListener {
    let port: Int
    private let listener: Int32
    private var fillers: [Int32] = []

    init(fillAcceptQueue: Bool) throws {
        let (fd, port) = try LoopbackHTTPServer.bindLoopback(listen: true, backlog: fillAcceptQueue ? 0 : 16)
        self.listener = fd
        self.port = port
        guard fillAcceptQueue else { return }
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard filler >= 0 else { continue }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(filler)
        }
        usleep(50_000)  // let the handshakes that can complete, complete
    }

    deinit {
        for fd in fillers { close(fd) }
        close(listener)
    }
}
