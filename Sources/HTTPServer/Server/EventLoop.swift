import Glibc
import Logging

/// One I/O thread: an edge-triggered epoll instance, its own listening socket, and the
/// connections it accepted. See ``HTTPServer`` for the design.
///
/// Everything here runs on the loop's thread only, which is why the class holds plain mutable
/// state without locks and is deliberately not `Sendable`: it is created on its thread and
/// never leaves it. Other threads talk to it through its ``EventLoopHandle``. For the same
/// reason the hot mutable properties skip run-time exclusivity checks (see ``Connection``).
final class EventLoop {
    static let listenerToken = UInt64.max
    static let wakeupToken = UInt64.max - 1
    static let readBufferSize = 64 * 1024
    /// Reads per readiness event before yielding to other connections (fairness under a flood;
    /// the connection is re-driven on the next iteration since no new edge will come).
    static let maxReadsPerTurn = 4
    /// Stop parsing more pipelined requests while this much output is queued.
    static let outputHighWater = 256 * 1024

    let handle: EventLoopHandle
    let shared: ServerShared
    let epoll: Epoll
    var listenerFD: Int32
    let logger: Logger
    let limits: HTTPServer.Limits
    /// This loop's own copy of the route tree: nodes shared between loops would have their
    /// reference counts bounced between cores on every lookup.
    let routes: RouteTree
    let accessLog: Bool
    /// Lines for ``HTTPServer/Configuration/accessLogWriter``, handed to it once per iteration.
    @exclusivity(unchecked) var accessLogLines: AccessLogLines?
    /// Is ``HTTPServer/Admission/maxQueueWait`` set (the `.queued` timer armed)?
    let queueWaitLimited: Bool
    /// What a shed request is answered.
    let overloadResponse: Response
    /// ``HTTPServer/Admission/check``.
    let admissionCheck: (@Sendable (Request) -> Response?)?
    /// When shedding was last logged (once per 10 s at most), and how many were shed since.
    var shedLoggedAt: UInt64 = 0
    var shedSinceLog = 0

    @exclusivity(unchecked) var connections: [Connection?] = []
    @exclusivity(unchecked) var connectionCount = 0
    var nextConnectionID: UInt64 = 1

    /// Connections that may have more to read but yielded (edge-triggered: no new event).
    @exclusivity(unchecked) var ready: [(fd: Int32, id: UInt64)] = []
    @exclusivity(unchecked) var acceptReady = false
    var acceptPausedUntil: UInt64?
    var acceptPauseLogged = false
    var capLoggedAt: UInt64 = 0

    var shuttingDown = false
    var stopRequested = false

    /// Monotonic time of the current iteration.
    @exclusivity(unchecked) var now: UInt64 = MonotonicClock.nanoseconds()
    @exclusivity(unchecked) var timerHeads = [Int32](repeating: -1, count: TimerKind.armedCount)
    @exclusivity(unchecked) var timerTails = [Int32](repeating: -1, count: TimerKind.armedCount)
    let timerDurations: [UInt64]

    let readBuffer: UnsafeMutableRawBufferPointer
    /// Responses produced while serving one connection; flushed before moving to the next.
    @exclusivity(unchecked) var output: [UInt8] = []
    @exclusivity(unchecked) var encoder: ResponseEncoder
    @exclusivity(unchecked) var requestIDs = RequestID.Generator()
    @exclusivity(unchecked) var metrics: LoopMetrics

    init(handle: EventLoopHandle, epoll: Epoll, listenerFD: Int32, shared: ServerShared, routes: RouteTree) {
        self.handle = handle
        self.routes = routes
        self.accessLog = shared.configuration.accessLog
        self.shared = shared
        self.epoll = epoll
        self.listenerFD = listenerFD
        var logger = shared.logger
        logger[metadataKey: "event-loop"] = .stringConvertible(handle.index)
        self.logger = logger
        if accessLog, let writer = shared.configuration.accessLogWriter {
            accessLogLines = AccessLogLines(format: writer.format, label: writer.label, loopIndex: handle.index)
        }
        self.limits = shared.configuration.limits
        let timeouts = shared.configuration.timeouts
        var durations = [UInt64](repeating: 0, count: TimerKind.armedCount)
        durations[TimerKind.idle.rawValue] = timeouts.idle.nanoseconds
        durations[TimerKind.header.rawValue] = timeouts.headerRead.nanoseconds
        durations[TimerKind.body.rawValue] = timeouts.bodyRead.nanoseconds
        durations[TimerKind.write.rawValue] = timeouts.write.nanoseconds
        durations[TimerKind.linger.rawValue] = timeouts.lingeringClose.nanoseconds
        durations[TimerKind.queued.rawValue] = shared.configuration.admission.maxQueueWait?.nanoseconds ?? 0
        self.queueWaitLimited = shared.configuration.admission.maxQueueWait != nil
        self.overloadResponse = shared.configuration.admission.overloadResponse
        self.admissionCheck = shared.configuration.admission.check
        self.timerDurations = durations
        self.readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        self.encoder = ResponseEncoder(
            serverName: shared.configuration.serverName, keepAliveTimeout: timeouts.announcedKeepAliveSeconds)
        self.metrics = LoopMetrics(enabled: shared.configuration.metrics, routes: routes.routes)
        output.reserveCapacity(64 * 1024)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Runs until a `.stop` message; then closes every descriptor this loop owns.
    func run() {
        let events = EpollEventBuffer(capacity: 512)
        while !stopRequested {
            let count = epoll.wait(into: events, timeoutMilliseconds: nextTimeout())
            now = MonotonicClock.nanoseconds()
            encoder.refreshDate(now: HTTPDate.nowSeconds())
            if accessLogLines != nil { accessLogLines!.tick() }
            for index in 0..<count {
                let data = events.data(at: index)
                let flags = events.events(at: index)
                switch data {
                case Self.listenerToken:
                    acceptConnections()
                case Self.wakeupToken:
                    handle.wakeup.drain()
                    processMessages()
                default:
                    connectionEvent(token: data, flags: flags)
                }
            }
            if acceptReady { acceptConnections() }
            driveReadyConnections()
            expireTimers()
            submitAccessLog()
        }
        closeEverything()
        submitAccessLog()
    }

    private func submitAccessLog() {
        guard accessLogLines != nil, let writer = shared.configuration.accessLogWriter else { return }
        writer.submit(&accessLogLines!)
    }

    /// Milliseconds until the earliest deadline (0 if work is pending, -1 if none).
    private func nextTimeout() -> Int32 {
        if !ready.isEmpty || acceptReady && acceptPausedUntil == nil { return 0 }
        var earliest = UInt64.max
        for kind in 0..<TimerKind.armedCount {
            let head = timerHeads[kind]
            if head >= 0, let connection = connections[Int(head)] {
                earliest = min(earliest, connection.deadline)
            }
        }
        if let resume = acceptPausedUntil { earliest = min(earliest, resume) }
        guard earliest != .max else { return -1 }
        let current = MonotonicClock.nanoseconds()
        guard earliest > current else { return 0 }
        // Round up so we do not wake a fraction early and spin.
        return Int32(clamping: (earliest - current + 999_999) / 1_000_000)
    }

    // MARK: - Messages from other threads

    private func processMessages() {
        for message in handle.takeMessages() {
            switch message {
            case .completed(let fd, let id, let response):
                guard let connection = connection(fd: fd, id: id), let inFlight = connection.inFlight else {
                    continue  // closed meanwhile (client went away, timeout, shutdown)
                }
                connection.inFlight = nil
                finish(connection, response: response, inFlight: inFlight)
                drive(connection)
            case .beginShutdown:
                beginShutdown()
            case .stop:
                stopRequested = true
            }
        }
    }

    func connection(fd: Int32, id: UInt64) -> Connection? {
        guard fd >= 0, Int(fd) < connections.count, let connection = connections[Int(fd)], connection.id == id else {
            return nil
        }
        return connection
    }

    private func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        closeListener()
        for case let connection? in connections where connection.isIdle {
            close(connection)
        }
        // The others finish what they are doing; `finish` answers with `Connection: close`.
    }

    private func closeListener() {
        guard listenerFD >= 0 else { return }
        epoll.remove(listenerFD)
        SocketIO.close(listenerFD)
        listenerFD = -1
        acceptReady = false
        acceptPausedUntil = nil
    }

    private func closeEverything() {
        closeListener()
        for case let connection? in connections {
            close(connection)
        }
        handle.close()
        epoll.remove(handle.wakeup.fd)
        epoll.close()
    }

    // MARK: - Accepting

    private func acceptConnections() {
        acceptReady = false
        guard listenerFD >= 0 else { return }
        if let resume = acceptPausedUntil {
            guard now >= resume else {
                acceptReady = true  // retried when the pause ends (the edge will not repeat)
                return
            }
            acceptPausedUntil = nil
        }
        var storage = sockaddr_storage()
        for _ in 0..<64 {
            let (fd, error) = SocketIO.accept(listenerFD, address: &storage)
            if fd < 0 {
                switch error {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors or memory: retrying at once would spin (the pending
                    // connection stays queued). Pause accepting on this loop and try later;
                    // log once per episode.
                    pauseAccepting(reason: error)
                    return
                case ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                     EOPNOTSUPP, ENETUNREACH:
                    // The pending connection failed (or a firewall refused it); it is gone
                    // from the queue, so move on to the next one (accept(2) "Error handling").
                    continue
                default:
                    pauseAccepting(reason: error)
                    return
                }
            }
            if acceptPauseLogged {
                acceptPauseLogged = false
                logger.notice("accepting connections again")
            }
            let address = withUnsafeBytes(of: &storage) { SocketAddress(storage: $0.baseAddress!) }
            register(fd: fd, address: address)
        }
        acceptReady = true  // more may be queued; continue next iteration after other work
    }

    private func pauseAccepting(reason: Int32) {
        acceptPausedUntil = now + shared.configuration.acceptBackoff.nanoseconds
        acceptReady = true
        if !acceptPauseLogged {
            acceptPauseLogged = true
            logger.warning(
                "accept failed; pausing accepting",
                metadata: [
                    "error": .string(SocketError.describe(errno: reason)), "errno": .stringConvertible(reason),
                    "pause_ms": .stringConvertible(shared.configuration.acceptBackoff.nanoseconds / 1_000_000),
                ])
        }
    }

    private func register(fd: Int32, address: SocketAddress?) {
        let open = shared.openConnections.add(1, ordering: .relaxed).newValue
        if open > shared.configuration.maxConnections || shuttingDown {
            shared.openConnections.subtract(1, ordering: .relaxed)
            SocketIO.close(fd)
            if now &- capLoggedAt > 10_000_000_000 {
                capLoggedAt = now
                logger.warning(
                    "connection limit reached; closing new connections",
                    metadata: ["max_connections": .stringConvertible(shared.configuration.maxConnections)])
            }
            return
        }
        // Responses are written whole; Nagle would only delay the last segment.
        try? ListeningSockets.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let connection = Connection(fd: fd, id: nextConnectionID, remoteAddress: address)
        nextConnectionID += 1
        // Registered once for input and output, edge-triggered: no epoll_ctl per request.
        let events = LinuxAPI.EPOLLIN | LinuxAPI.EPOLLOUT | LinuxAPI.EPOLLRDHUP | LinuxAPI.EPOLLET
        do {
            try epoll.add(fd, events: events, data: token(for: connection))
        } catch {
            shared.openConnections.subtract(1, ordering: .relaxed)
            SocketIO.close(fd)
            logger.error("epoll_ctl failed for a new connection", metadata: ["error": "\(error)"])
            return
        }
        if Int(fd) >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count + 64))
        }
        connections[Int(fd)] = connection
        connectionCount += 1
        shared.connectionsMeter?.increment()
        setTimer(connection, .idle)
    }

    private func token(for connection: Connection) -> UInt64 {
        (connection.id << 32) | UInt64(UInt32(bitPattern: connection.fd))
    }

    // MARK: - Readiness

    private func connectionEvent(token: UInt64, flags: UInt32) {
        let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: token))
        guard fd >= 0, Int(fd) < connections.count, let connection = connections[Int(fd)],
              UInt32(truncatingIfNeeded: connection.id) == UInt32(truncatingIfNeeded: token >> 32)
        else { return }  // stale event for a connection closed earlier in this batch
        if flags & LinuxAPI.EPOLLERR != 0 {
            close(connection)  // reset or other socket error: nothing more can be delivered
            return
        }
        if flags & (LinuxAPI.EPOLLRDHUP | LinuxAPI.EPOLLHUP) != 0 {
            connection.peerHangupSeen = true
        }
        if flags & LinuxAPI.EPOLLOUT != 0 && connection.hasPendingOutput {
            writeOutbound(connection)
            if connection.isClosed { return }
        }
        if flags & (LinuxAPI.EPOLLIN | LinuxAPI.EPOLLRDHUP | LinuxAPI.EPOLLHUP) != 0 {
            connection.readable = true
        }
        drive(connection)
    }

    private func driveReadyConnections() {
        guard !ready.isEmpty else { return }
        let pending = ready
        ready = []
        for (fd, id) in pending {
            if let connection = connection(fd: fd, id: id) { drive(connection) }
        }
    }
}
