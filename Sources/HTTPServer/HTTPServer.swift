import Dispatch
import Glibc
import Logging
import Synchronization

/// A NIO-free HTTP/1.1 server: epoll event loops for I/O, a bounded pool of POSIX threads for
/// blocking handlers, a strict incremental parser, and an immutable router.
///
/// ```swift
/// var router = Router()
/// router.get("/healthz", options: .inline) { _, _ in Response(text: "ok\n") }
/// router.get("/v1/prospects/{id}") { request, context in
///     let id = try context.parameters.require("id")
///     guard let prospect = try store.find(id) else { throw HTTPError.notFound(detail: "No prospect \(id).") }
///     return .json(prospect.encoded())
/// }
/// let server = try HTTPServer(configuration: .init(port: 8080), router: router, logger: logger)
/// TerminationSignals.install()   // before start(): the server's threads inherit the mask
/// try server.start()
/// let signal = TerminationSignals.wait()
/// server.shutdown(gracePeriod: .seconds(10))
/// ```
///
/// ## Design
///
/// **Threads.** `ioThreads` event loops (default: one per core) and `workerThreads` handler
/// threads (default 32), all plain POSIX threads. Nothing runs on Swift's cooperative pool:
/// handlers block (libpq), and that pool has one thread per core.
///
/// **I/O: epoll, edge-triggered.** Each loop owns an epoll instance, its own listening socket
/// and the connections it accepted; only the loop's thread touches them, so connection state
/// needs no locks, and only the loop closes a descriptor (exactly once). Sockets are
/// registered once, for input and output, edge-triggered (`EPOLLIN|EPOLLOUT|EPOLLRDHUP|
/// EPOLLET`): the loop never calls `epoll_ctl` per request to switch write interest on and off
/// as a level-triggered design must, and a read shorter than the buffer proves the socket is
/// drained (epoll(7)), so a typical request costs one `read` and one `send`. The price of edge
/// triggering is bookkeeping: a connection that stops reading early (fairness limit,
/// backpressure, a request in flight) remembers that it is still readable and is re-driven
/// later. Writes use `send(…, MSG_NOSIGNAL)`, `EINTR` is retried everywhere, partial writes
/// keep the rest and continue on `EPOLLOUT`. SIGPIPE is ignored process-wide by ``start()``.
///
/// **Accepting: `SO_REUSEPORT`, one listener per loop.** The kernel spreads new connections
/// over the loops' listeners, so there is no hand-off between threads per connection and no
/// thundering herd. A probe bind without `SO_REUSEPORT` first makes "port already in use"
/// an error instead of silently sharing the port with another copy of the server. Past
/// `maxConnections` (counted across loops) new connections are accepted and closed at once.
/// `EMFILE`/`ENFILE` pause accepting on that loop for `acceptBackoff` (logged once per
/// episode) instead of spinning; per-connection `accept` errors are skipped.
///
/// **Memory per connection.** An idle connection is one small object (parser state, flags,
/// timer links; about 0.5 KiB of RSS measured with 10,000 connections): reads go into a
/// per-loop 64 KiB buffer and are parsed in place; only the unconsumed remainder of a partial
/// request, or the unsent remainder of a blocked response, is copied into per-connection
/// arrays, which are released when empty.
///
/// **Requests.** Parsed by `HTTPRequestParser` (RFC 9112, strict: anything ambiguous is
/// rejected with the precise status and the connection closed). A connection serves one
/// request at a time: pipelined requests are parsed as soon as the previous response is
/// queued, so responses leave in order and one client never holds more than one worker.
/// Routes marked ``RouteOptions/inline`` run on the loop thread (no hand-off: for `/healthz`
/// and similar trivial handlers); the rest run on the worker pool, and the finished response
/// is posted to the owning loop's mailbox and an `eventfd` wakes it. All responses produced
/// while serving one connection (a batch of pipelined requests) are written with one `send`.
///
/// **Admission control.** A request for a worker waits in a bounded FIFO queue; past
/// ``Admission/maxQueuedRequests`` waiting requests, or after ``Admission/maxQueueWait``
/// without a worker, it is answered at once by its event loop with the configured overload
/// response (503 + `Retry-After`) and counted in `http_requests_shed_total`. Inline routes
/// are never shed, so `/healthz` answers however busy the workers are. Worker threads run at a
/// lower CPU priority than the loops (``Configuration/workerNiceness``): when handlers (or a
/// database on the same machine) saturate the CPU, the loops still get to read requests, shed
/// the excess and answer `/healthz` promptly instead of waiting their turn behind 32 workers.
///
/// **Timeouts.** Each connection waits on at most one deadline — idle keep-alive, header
/// read (from the first byte; 408 on expiry), body read (408), queue wait (503), write (peer
/// not reading), or lingering close. Each kind has a fixed duration, so per-kind intrusive lists stay sorted by
/// deadline: O(1) arm/cancel, expiry inspects list heads, and `epoll_wait`'s timeout is the
/// earliest head. No timer objects.
///
/// **Keep-alive and conditional GET.** A response on a connection the server keeps open says
/// `Connection: keep-alive` and `Keep-Alive: timeout=<seconds>`, a little below the idle
/// timeout (``Timeouts/announcedKeepAliveSeconds``), so that pooled clients (Apache HttpClient,
/// `HttpURLConnection`) retire an idle connection before the server closes it; a response on a
/// connection about to close says `Connection: close`. A `GET` or `HEAD` whose handler answers
/// `200` with an `ETag` that the request's `If-None-Match` names goes out as `304 Not
/// Modified` with that `ETag` and no body (``ConditionalGET``, RFC 9110 §13.1.2, §13.2.2):
/// handlers only set `ETag`.
///
/// **Hot path.** Per request: one `read`, one `send`, a share of one `epoll_wait`; a handful
/// of allocations. Nothing touched per request is shared between loops (each loop has its own
/// route tree, status-line table, metric objects and request-id generator), because Swift
/// reference counting on a shared object bounces its cache line between cores. Loop-confined
/// state skips run-time exclusivity checks (`@exclusivity(unchecked)`). Measured on the
/// two-core target, `/healthz` costs about the same CPU per request as nginx's `return 200`.
///
/// **Closing.** Error responses end with a lingering close: shut down the write side, discard
/// input until the client closes or `lingeringClose` passes, then close — closing with unread
/// input would reset the connection and could destroy the response before the client reads it.
///
/// **Shutdown.** ``shutdown(gracePeriod:)`` closes the listeners (new connections are
/// refused), closes idle connections, lets requests in progress finish (their responses carry
/// `Connection: close`), and after the grace period closes whatever is left, stops the loops
/// and joins the threads.
public final class HTTPServer: Sendable {
    private struct Running: Sendable {
        let handles: [EventLoopHandle]
        let threads: [PosixThread]
        let shared: ServerShared
        let address: SocketAddress
    }

    private enum State: Sendable {
        case idle
        case running(Running)
        case stopping(SocketAddress)
        case stopped
    }

    /// The configuration the server was created with.
    public let configuration: Configuration
    private let router: Router
    private let logger: Logger
    private let state = Mutex(State.idle)

    /// Builds the route tree; throws ``RouterError`` for a malformed template or a collision.
    public init(configuration: Configuration = Configuration(), router: Router, logger: Logger = Logger(label: "http")) throws {
        self.configuration = configuration
        self.router = router
        _ = try router.build()  // validate now; each loop builds its own copy at start
        self.logger = logger
    }

    /// The port actually bound (useful with port 0), or nil before ``start()``.
    public var boundPort: Int? { boundAddress?.port }

    /// The address actually bound, or nil before ``start()``.
    public var boundAddress: SocketAddress? {
        state.withLock { state in
            switch state {
            case .running(let running): return running.address
            case .stopping(let address): return address
            case .idle, .stopped: return nil
            }
        }
    }

    /// Requests admitted and waiting for a worker right now.
    var requestsWaitingForWorkers: Int {
        state.withLock { state in
            if case .running(let running) = state { return running.shared.workers.waitingCount }
            return 0
        }
    }

    /// Connections open right now, across all loops.
    public var openConnections: Int {
        state.withLock { state in
            if case .running(let running) = state { return running.shared.openConnections.load(ordering: .relaxed) }
            return 0
        }
    }

    /// Binds the listening sockets and starts the event loops and workers.
    ///
    /// - Throws: ``SocketError`` with a message such as "port 8080 already in use", or
    ///   ``HTTPServerError`` for an invalid configuration or a second start.
    public func start() throws {
        try state.withLock { state in
            guard case .idle = state else { throw HTTPServerError(message: "the server was already started") }
            try validate(configuration)
            // Writes to a socket the peer closed must fail with EPIPE, not kill the process
            // (libpq and libcurl write to sockets too).
            signal(SIGPIPE, SIG_IGN)

            let loopCount = configuration.ioThreads
            let (listeners, address) = try ListeningSockets.bind(
                host: configuration.host, port: configuration.port, count: loopCount, backlog: configuration.backlog)
            var listenersHandedOff = 0
            var handles: [EventLoopHandle] = []
            var threads: [PosixThread] = []
            var workers: WorkerPool?
            do {
                let pool = try WorkerPool(
                    count: configuration.workerThreads, maxWaiting: configuration.effectiveMaxQueuedRequests,
                    niceness: configuration.workerNiceness)
                workers = pool
                let shared = ServerShared(configuration: configuration, workers: pool, logger: logger)
                for index in 0..<loopCount {
                    let epoll = try Epoll()
                    let handle: EventLoopHandle
                    do {
                        handle = try EventLoopHandle(index: index)
                        try epoll.add(
                            listeners[index], events: LinuxAPI.EPOLLIN | LinuxAPI.EPOLLET, data: EventLoop.listenerToken)
                        // Level-triggered: the loop reads the counter on every wake-up anyway.
                        try epoll.add(handle.wakeup.fd, events: LinuxAPI.EPOLLIN, data: EventLoop.wakeupToken)
                    } catch {
                        epoll.close()
                        throw error
                    }
                    let listener = listeners[index]
                    do {
                        let routes = try router.build()
                        threads.append(try PosixThread.spawn(name: "http-io-\(index)") {
                            EventLoop(handle: handle, epoll: epoll, listenerFD: listener, shared: shared, routes: routes).run()
                        })
                    } catch {
                        epoll.close()  // not handed to a loop yet
                        throw error
                    }
                    listenersHandedOff += 1
                    handles.append(handle)
                }
                state = .running(Running(handles: handles, threads: threads, shared: shared, address: address))
                logger.info(
                    "HTTP server listening",
                    metadata: [
                        "address": .string(address.description), "io_threads": .stringConvertible(loopCount),
                        "worker_threads": .stringConvertible(configuration.workerThreads),
                        "max_queued_requests": .stringConvertible(configuration.effectiveMaxQueuedRequests),
                        "max_queue_wait_ms": .string(
                            configuration.admission.maxQueueWait.map { String($0.nanoseconds / 1_000_000) } ?? "none"),
                    ])
            } catch {
                for handle in handles { handle.send(.stop) }
                for thread in threads { thread.join() }
                for listener in listeners[listenersHandedOff...] { SocketIO.close(listener) }
                _ = workers?.stop(timeout: .seconds(1))
                throw error
            }
        }
    }

    private func validate(_ configuration: Configuration) throws {
        guard configuration.ioThreads >= 1 else { throw HTTPServerError(message: "ioThreads must be at least 1") }
        guard configuration.workerThreads >= 1 else { throw HTTPServerError(message: "workerThreads must be at least 1") }
        guard configuration.maxConnections >= 1 else { throw HTTPServerError(message: "maxConnections must be at least 1") }
        guard (0...19).contains(configuration.workerNiceness) else {
            throw HTTPServerError(message: "workerNiceness must be from 0 to 19")
        }
        guard configuration.effectiveMaxQueuedRequests >= 0 else {
            throw HTTPServerError(message: "admission.maxQueuedRequests must not be negative")
        }
        if let wait = configuration.admission.maxQueueWait, wait <= .zero {
            throw HTTPServerError(message: "admission.maxQueueWait must be positive")
        }
        let limits = configuration.limits
        guard limits.maxRequestLineLength >= 16, limits.maxHeaderBytes >= 2, limits.maxHeaderCount >= 1,
              limits.maxBodyBytes >= 0, limits.maxBodyBytes <= Int.max / 32, limits.maxChunkExtensionLength >= 0,
              limits.maxTrailerBytes >= 2
        else { throw HTTPServerError(message: "request limits out of range: \(limits)") }
    }

    /// Stops gracefully: stop accepting, close idle connections, let requests in progress
    /// finish for up to `gracePeriod`, then close everything and join the threads.
    ///
    /// Blocks until done. Idempotent; concurrent callers wait for the first one to finish.
    /// Handlers still running after the grace period are abandoned (their threads detached),
    /// not waited for.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        let running: Running? = state.withLock { state in
            guard case .running(let running) = state else { return nil }
            state = .stopping(running.address)
            return running
        }
        guard let running else {
            while state.withLock({ if case .stopping = $0 { return true } else { return false } }) {
                usleep(5_000)
            }
            return
        }
        let deadline = MonotonicClock.nanoseconds() + gracePeriod.nanoseconds
        logger.info("HTTP server shutting down", metadata: ["grace_ms": .stringConvertible(gracePeriod.nanoseconds / 1_000_000)])
        for handle in running.handles { handle.send(.beginShutdown) }
        while running.shared.openConnections.load(ordering: .relaxed) > 0 && MonotonicClock.nanoseconds() < deadline {
            usleep(2_000)
        }
        let abandoned = running.shared.openConnections.load(ordering: .relaxed)
        if abandoned > 0 {
            logger.warning("grace period over; closing connections still open", metadata: ["connections": .stringConvertible(abandoned)])
        }
        for handle in running.handles { handle.send(.stop) }
        for thread in running.threads { thread.join() }
        let remaining = Duration.nanoseconds(Int64(clamping: max(deadline &- MonotonicClock.nanoseconds(), 100_000_000)))
        if !running.shared.workers.stop(timeout: deadline > MonotonicClock.nanoseconds() ? remaining : .milliseconds(100)) {
            logger.warning("request handlers still running after the grace period were abandoned")
        }
        configuration.accessLogWriter?.close()  // the loops are done: every line is in it
        state.withLock { $0 = .stopped }
        logger.info("HTTP server stopped")
    }
}

/// A misuse of ``HTTPServer`` (invalid configuration, starting twice).
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// What was wrong.
    public let message: String
    public var description: String { message }
}
