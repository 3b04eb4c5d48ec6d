/// A complete HTTP response: any status, including 4xx and 5xx, is a response and not an error.
public struct OutboundResponse: Sendable {
    /// The final status code (after any redirects that were followed).
    public var status: Int
    /// The header fields of the final response, in the order received. Interim responses
    /// (`100 Continue`) and the responses of followed redirects are dropped; trailer fields of
    /// a chunked body, if any, follow the header fields.
    public var headers: [(name: String, value: String)]
    /// The response body, at most the client's `maxResponseBodyBytes`.
    public var body: [UInt8]
    /// The URL of the final request (differs from the request's URL after followed redirects).
    public var effectiveURL: String
    /// The IP address actually connected to, e.g. `127.0.0.1`.
    public var remoteAddress: String
    /// The port actually connected to.
    public var remotePort: Int
    /// Where the time went, as measured by libcurl.
    public var timings: OutboundTimings
    /// How many redirects were followed.
    public var redirectCount: Int
    /// How many new connections were opened; `0` means an idle connection was reused, in which
    /// case ``OutboundTimings/connect`` says nothing about connect latency.
    public var newConnections: Int

    /// Creates a response; the client builds these, tests and callers may too.
    public init(
        status: Int,
        headers: [(name: String, value: String)],
        body: [UInt8],
        effectiveURL: String,
        remoteAddress: String,
        remotePort: Int,
        timings: OutboundTimings,
        redirectCount: Int,
        newConnections: Int
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.effectiveURL = effectiveURL
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.timings = timings
        self.redirectCount = redirectCount
        self.newConnections = newConnections
    }

    /// The first value of the named header field (case-insensitive), or `nil`.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// Every value of the named header field (case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map(\.value)
    }
}

/// libcurl's transfer timings (`CURLINFO_*_TIME_T`), each measured from the start of the request,
/// so they are cumulative: `connect` includes `nameLookup`, `total` includes everything.
public struct OutboundTimings: Sendable, Hashable {
    /// Until the host name was resolved.
    public var nameLookup: Duration
    /// Until the TCP connection was established (time-to-connect).
    public var connect: Duration
    /// Until the TLS handshake finished; zero for plain `http`.
    public var tlsHandshake: Duration
    /// Until the first response byte arrived (time-to-first-byte).
    public var firstByte: Duration
    /// Until the transfer finished.
    public var total: Duration

    /// Creates a set of timings, each measured from the start of the request.
    public init(nameLookup: Duration, connect: Duration, tlsHandshake: Duration, firstByte: Duration, total: Duration) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.tlsHandshake = tlsHandshake
        self.firstByte = firstByte
        self.total = total
    }
}
