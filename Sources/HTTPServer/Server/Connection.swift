/// One accepted TCP connection. Owned by exactly one event loop and touched only on its
/// thread; the loop is the only code that closes `fd`.
///
/// Exclusivity: the object never leaves its loop's thread and no code path re-enters while it
/// holds an access to one of these properties (the parser and encoder are pure; parsing from
/// `inbound` works on a retained copy), so the per-access run-time exclusivity checks — a few
/// percent of the CPU per request — are switched off with `@exclusivity(unchecked)`.
///
/// Idle cost is this object alone (a few hundred bytes): the inbound and outbound buffers are
/// empty arrays (no allocation) unless a request is partially received or a response is
/// partially sent; reads go to the loop's shared read buffer.
final class Connection {
    /// The request a worker is running, or whose response a handler deferred,
    /// remembered for the access log and metrics.
    struct InFlight {
        let requestID: String
        let method: String
        let path: String
        let routeIndex: Int
        let startNanos: UInt64
        let omitBody: Bool
        let keepAlive: Bool
        let version: HTTPVersion
        /// The `If-None-Match` of a `GET`/`HEAD`, for the conditional-GET step
        /// (``ConditionalGET``) once the response arrives.
        let ifNoneMatch: String?
        /// The queued handler run, to withdraw it if it waits too long or the connection
        /// closes before a worker picks it up; nil for a response the handler deferred
        /// (``DeferredResponse``), which nothing here can withdraw.
        let job: WorkerPool.Job?
    }

    let fd: Int32
    /// Unique per loop; lets late worker results for a closed (and reused) fd be recognised.
    let id: UInt64
    let remoteAddress: SocketAddress?

    @exclusivity(unchecked) var parser = HTTPRequestParser()
    /// Bytes received but not yet consumed by the parser (a partial head, or input held back
    /// while a request is in flight).
    @exclusivity(unchecked) var inbound: [UInt8] = []
    /// Response bytes the socket did not accept yet.
    @exclusivity(unchecked) var outbound: [UInt8] = []
    @exclusivity(unchecked) var outboundOffset = 0

    @exclusivity(unchecked) var inFlight: InFlight?
    /// The connection ends once `outbound` drains (error response, `Connection: close`, EOF).
    @exclusivity(unchecked) var closeAfterFlush = false
    /// Complete input was left unparsed because processing had to pause (a request in
    /// flight, output backed up); the loop resumes it once that clears.
    @exclusivity(unchecked) var inputHeldBack = false
    /// The close must linger: input may be unread (an error answered before the body, a
    /// timeout mid-request, pipelined requests after `Connection: close`).
    @exclusivity(unchecked) var lingerOnClose = false
    /// Our side is shut down for writing; input is read and discarded until EOF or timeout.
    @exclusivity(unchecked) var lingering = false
    /// The peer finished sending (read returned 0).
    @exclusivity(unchecked) var peerClosed = false
    /// Edge-triggered bookkeeping: the socket may hold unread data.
    @exclusivity(unchecked) var readable = false
    /// EPOLLRDHUP/EPOLLHUP seen: keep reading to observe EOF even after a short read.
    @exclusivity(unchecked) var peerHangupSeen = false
    @exclusivity(unchecked) var isClosed = false

    // Timer list links (file descriptors of neighbours, -1 for none).
    @exclusivity(unchecked) var timerKind = TimerKind.none
    @exclusivity(unchecked) var deadline: UInt64 = 0
    @exclusivity(unchecked) var timerPrevious: Int32 = -1
    @exclusivity(unchecked) var timerNext: Int32 = -1

    init(fd: Int32, id: UInt64, remoteAddress: SocketAddress?) {
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }

    /// Nothing in progress: no partial request, no request in flight, nothing to send.
    var isIdle: Bool {
        inFlight == nil && inbound.isEmpty && parser.isAtMessageBoundary && !hasPendingOutput && !lingering
            && !closeAfterFlush
    }
}
