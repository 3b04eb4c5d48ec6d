/// One accepted TCP connection. Owned by exactly one event loop and touched only on its
/// thread; the loop is the only code that closes `fd`.
///
/// Idle cost is this object alone (a few hundred bytes): the inbound and outbound buffers are
/// empty arrays (no allocation) unless a request is partially received or a response is
/// partially sent; reads go to the loop's shared read buffer.
final class Connection {
    /// The request a worker is running, remembered for the access log and metrics.
    struct InFlight {
        let requestID: String
        let method: String
        let path: String
        let routeIndex: Int
        let startNanos: UInt64
        let omitBody: Bool
        let keepAlive: Bool
        let version: HTTPVersion
    }

    let fd: Int32
    /// Unique per loop; lets late worker results for a closed (and reused) fd be recognised.
    let id: UInt64
    let remoteAddress: SocketAddress?

    var parser = HTTPRequestParser()
    /// Bytes received but not yet consumed by the parser (a partial head, or input held back
    /// while a request is in flight).
    var inbound: [UInt8] = []
    /// Response bytes the socket did not accept yet.
    var outbound: [UInt8] = []
    var outboundOffset = 0

    var inFlight: InFlight?
    /// The connection ends once `outbound` drains (error response, `Connection: close`, EOF).
    var closeAfterFlush = false
    /// The close must linger: input may be unread (an error answered before the body, a
    /// timeout mid-request, pipelined requests after `Connection: close`).
    var lingerOnClose = false
    /// Our side is shut down for writing; input is read and discarded until EOF or timeout.
    var lingering = false
    /// The peer finished sending (read returned 0).
    var peerClosed = false
    /// Edge-triggered bookkeeping: the socket may hold unread data.
    var readable = false
    /// EPOLLRDHUP/EPOLLHUP seen: keep reading to observe EOF even after a short read.
    var peerHangupSeen = false
    var isClosed = false

    // Timer list links (file descriptors of neighbours, -1 for none).
    var timerKind = TimerKind.none
    var deadline: UInt64 = 0
    var timerPrevious: Int32 = -1
    var timerNext: Int32 = -1

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
