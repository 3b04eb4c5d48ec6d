import Glibc
import HTTPTypes

extension HTTPServer {
    /// Everything that shapes a server; the defaults suit production on a small machine.
    public struct Configuration: Sendable {
        /// The address to listen on: `0.0.0.0` (all IPv4), `::` (all IPv6 and IPv4, dual stack),
        /// `127.0.0.1`, `::1`, or a name resolved once at start.
        public var host: String
        /// The TCP port; 0 picks a free port (read it back from ``HTTPServer/boundPort``).
        public var port: Int
        /// Event-loop (I/O) threads; each owns its listener and its connections.
        public var ioThreads: Int
        /// Threads running handlers that are not marked inline. Handlers may block (libpq),
        /// so this bounds concurrent database work too.
        public var workerThreads: Int
        /// Added to the nice value of each worker thread (Linux schedules threads one by one):
        /// with the CPU saturated, the event loops — reading requests, shedding the excess,
        /// answering `/healthz` — then run before handlers instead of taking their turn among
        /// `workerThreads` busy workers. They need little CPU, so handlers lose little. 0 to 19;
        /// 0 gives workers the loops' priority.
        public var workerNiceness: Int
        /// Open connections allowed at once; beyond it new connections are accepted and closed
        /// immediately, so the kernel's accept queue never fills with doomed connections.
        public var maxConnections: Int
        /// The `listen(2)` backlog (the kernel caps it at `net.core.somaxconn`).
        public var backlog: Int32
        /// Request size limits.
        public var limits: Limits
        /// Connection timeouts.
        public var timeouts: Timeouts
        /// Load shedding: how much handler work may wait for a worker, and for how long.
        public var admission: Admission
        /// One info-level log line per request (request id, method, path, status, duration,
        /// bytes). Turn off for benchmarks.
        public var accessLog: Bool
        /// Where the access log's lines go when ``accessLog`` is on: nil, through the server's
        /// logger (at info, one call a line); a writer, formatted on the I/O thread and written
        /// in batches by the writer's own thread (what `serve` uses: a line through swift-log
        /// costs as much as answering `/healthz`). ``HTTPServer/shutdown(gracePeriod:)`` closes it.
        public var accessLogWriter: AccessLogWriter? = nil
        /// Emit swift-metrics (`http_requests_total`, `http_request_duration_seconds`,
        /// `http_open_connections`, `http_requests_shed_total`).
        public var metrics: Bool
        /// The `Server` response header value, or nil to send none.
        public var serverName: String?
        /// How long accepting pauses after `EMFILE`/`ENFILE` (out of file descriptors).
        public var acceptBackoff: Duration

        /// A configuration; every parameter has a production default.
        public init(
            host: String = "0.0.0.0",
            port: Int = 8080,
            ioThreads: Int = HTTPServer.Configuration.processorCount,
            workerThreads: Int = 32,
            workerNiceness: Int = 10,
            maxConnections: Int = 16_384,
            backlog: Int32 = 1024,
            limits: Limits = Limits(),
            timeouts: Timeouts = Timeouts(),
            admission: Admission = Admission(),
            accessLog: Bool = true,
            metrics: Bool = true,
            serverName: String? = nil,
            acceptBackoff: Duration = .milliseconds(100)
        ) {
            self.host = host
            self.port = port
            self.ioThreads = ioThreads
            self.workerThreads = workerThreads
            self.workerNiceness = workerNiceness
            self.maxConnections = maxConnections
            self.backlog = backlog
            self.limits = limits
            self.timeouts = timeouts
            self.admission = admission
            self.accessLog = accessLog
            self.metrics = metrics
            self.serverName = serverName
            self.acceptBackoff = acceptBackoff
        }

        /// The bound on waiting requests in force: ``Admission/maxQueuedRequests``, or 4 per
        /// worker thread when that is nil.
        public var effectiveMaxQueuedRequests: Int {
            admission.maxQueuedRequests ?? Admission.queuedRequestsPerWorker * workerThreads
        }

        /// The number of online processors (at least 1).
        public static var processorCount: Int {
            max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        }
    }

    /// Request size limits. Exceeding one is answered with the status in each property's
    /// documentation and the connection is closed.
    public struct Limits: Sendable, Equatable {
        /// Longest request line (method, target, version; without CRLF) → 414.
        public var maxRequestLineLength: Int
        /// Largest header section (all field lines with their CRLFs, and the final CRLF) → 431.
        public var maxHeaderBytes: Int
        /// Most header field lines → 431.
        public var maxHeaderCount: Int
        /// Largest request body, declared (Content-Length, answered before the body is read)
        /// or accumulated (chunked) → 413.
        public var maxBodyBytes: Int
        /// Longest chunk extension on one chunk-size line (extensions are ignored) → 400.
        public var maxChunkExtensionLength: Int
        /// Largest trailer section of a chunked body (trailers are discarded) → 431.
        public var maxTrailerBytes: Int

        /// Limits; the defaults are 8 KiB request line, 16 KiB header section, 100 fields,
        /// 1 MiB body, 1 KiB chunk extension, 8 KiB trailers.
        public init(
            maxRequestLineLength: Int = 8 * 1024,
            maxHeaderBytes: Int = 16 * 1024,
            maxHeaderCount: Int = 100,
            maxBodyBytes: Int = 1024 * 1024,
            maxChunkExtensionLength: Int = 1024,
            maxTrailerBytes: Int = 8 * 1024
        ) {
            self.maxRequestLineLength = maxRequestLineLength
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
            self.maxChunkExtensionLength = maxChunkExtensionLength
            self.maxTrailerBytes = maxTrailerBytes
        }
    }

    /// Connection timeouts, enforced by each event loop's timer lists.
    public struct Timeouts: Sendable, Equatable {
        /// From the first byte of a request to the end of its header section; on expiry a
        /// partially received request is answered 408 and the connection closed.
        public var headerRead: Duration
        /// From the end of the header section to the end of the body → 408 and close.
        public var bodyRead: Duration
        /// A keep-alive connection with no request in progress is closed silently after this.
        public var idle: Duration
        /// A response that makes no write progress for this long (the client stopped reading)
        /// gets its connection closed.
        public var write: Duration
        /// After an error response the server stops sending and reads (discarding) for at most
        /// this long before closing, so the client receives the response rather than a reset.
        public var lingeringClose: Duration

        /// Timeouts; the defaults are 10 s header read, 30 s body read, 60 s idle, 30 s write,
        /// 2 s lingering close.
        public init(
            headerRead: Duration = .seconds(10),
            bodyRead: Duration = .seconds(30),
            idle: Duration = .seconds(60),
            write: Duration = .seconds(30),
            lingeringClose: Duration = .seconds(2)
        ) {
            self.headerRead = headerRead
            self.bodyRead = bodyRead
            self.idle = idle
            self.write = write
            self.lingeringClose = lingeringClose
        }

        /// The seconds a kept-alive response announces in `Keep-Alive: timeout=`: a little
        /// below ``idle`` (by a quarter of it, at most 5 s, rounded down to whole seconds), so
        /// that a pooled client drops an idle connection before the server closes it and never
        /// sends a request into a connection that is being closed. 60 s idle → 55.
        public var announcedKeepAliveSeconds: Int {
            let idleMillis = idle.components.seconds * 1000 + idle.components.attoseconds / 1_000_000_000_000_000
            let margin = min(5000, idleMillis / 4)
            return Int(max(0, (idleMillis - margin) / 1000))
        }
    }
}

extension HTTPServer {
    /// Admission control for requests that run on the worker pool (routes not marked
    /// ``RouteOptions/inline``).
    ///
    /// A request that finds every worker busy waits in a FIFO queue. Without a bound that queue
    /// grows with the number of connections (one request each) and so does every request's
    /// wait: under overload clients time out and retry while the server still works through
    /// requests nobody is waiting for. With one, the excess is answered at once, from the event
    /// loop, with ``overloadResponse`` (503 with `Retry-After`): past ``maxQueuedRequests``
    /// waiting requests, and when a request has waited ``maxQueueWait`` without a worker
    /// picking it up (it is withdrawn and never runs). Inline routes (`/healthz`) are never
    /// shed. A request whose handler has started is never cut short.
    public struct Admission: Sendable {
        /// The default bound is this many waiting requests per worker thread.
        public static let queuedRequestsPerWorker = 4

        /// Requests waiting for a worker at most; more are shed at once. nil: 4 per worker
        /// thread (128 with the default 32). `Int.max` turns the bound off.
        public var maxQueuedRequests: Int?
        /// How long a request may wait for a worker before it is shed; nil: no limit.
        public var maxQueueWait: Duration?
        /// The response to a shed request. The server adds `X-Request-Id`, `Date` and the
        /// framing; a 503 should carry `Retry-After` (RFC 9110 §10.2.3).
        public var overloadResponse: Response
        /// Runs on the I/O thread for each request bound for a worker, before it is queued: a
        /// response answers the request at once (say `429` for a client over its rate, which
        /// then takes no worker and no place in the queue); nil queues it. It must be cheap and
        /// never block: every connection of its event loop waits while it runs.
        public var check: (@Sendable (Request) -> Response?)?

        /// Admission control; the defaults are 4 waiting requests per worker thread, a 5 s
        /// wait, and a generic problem document with `Retry-After: 2`.
        public init(
            maxQueuedRequests: Int? = nil,
            maxQueueWait: Duration? = .seconds(5),
            overloadResponse: Response = Admission.defaultOverloadResponse(retryAfterSeconds: 2),
            check: (@Sendable (Request) -> Response?)? = nil
        ) {
            self.maxQueuedRequests = maxQueuedRequests
            self.maxQueueWait = maxQueueWait
            self.overloadResponse = overloadResponse
            self.check = check
        }

        /// `503 Service Unavailable`, `Retry-After`, and an `about:blank` problem document.
        public static func defaultOverloadResponse(retryAfterSeconds: Int) -> Response {
            var fields = HTTPFields()
            fields[.retryAfter] = String(retryAfterSeconds)
            return .problem(
                status: .serviceUnavailable,
                detail: "The server is overloaded; nothing was done. Retry after \(retryAfterSeconds) seconds.",
                headerFields: fields)
        }
    }
}
