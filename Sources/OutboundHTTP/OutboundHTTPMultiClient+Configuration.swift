extension OutboundHTTPMultiClient {
    /// Settings of a multi client: how each request is made, and how many run at once.
    public struct Configuration: Sendable {
        /// How each request is made — `User-Agent`, response limits, CA bundle, proxy — exactly
        /// as for ``OutboundHTTPClient``. Its `maxIdleHandles` bounds the easy handles kept for
        /// reuse between transfers; here they carry no connections (those live in the multi
        /// handle's cache), so a small pool only saves `curl_easy_init` calls.
        public var requests: OutboundHTTPClient.Configuration
        /// How many transfers run at once, over all hosts. Further ones wait in the client's
        /// queue; their total timeout starts when they start.
        public var maxConcurrentTransfers: Int
        /// How many connections, and so (HTTP/1.1, no pipelining) transfers, one host (name and
        /// port) gets at once. `CURLMOPT_MAX_HOST_CONNECTIONS` is set to the same number. Transfers
        /// to a busy host wait in that host's own queue, so a slow or dead endpoint occupies at
        /// most this many slots and never holds up the others.
        public var maxConnectionsPerHost: Int
        /// How many connections the multi handle's cache keeps open, in use or idle, for reuse
        /// (`CURLMOPT_MAXCONNECTS`); the oldest idle one is closed beyond that.
        public var maxCachedConnections: Int
        /// How many transfers may wait for a slot. Past that, ``OutboundHTTPMultiClient/submit(_:completion:)``
        /// answers at once with ``OutboundHTTPError/Kind/overloaded``: the caller holds the work
        /// and offers it again later, rather than the client growing without bound.
        public var maxQueuedTransfers: Int
        /// The longest the driver sleeps in `curl_multi_poll` when libcurl has no earlier timer;
        /// submissions and close wake it at once, so this only bounds the cost of a lost wakeup.
        public var maxPollWait: Duration

        /// Creates the settings; the defaults suit webhook delivery from one instance.
        public init(
            requests: OutboundHTTPClient.Configuration = .init(),
            maxConcurrentTransfers: Int = 256,
            maxConnectionsPerHost: Int = 8,
            maxCachedConnections: Int = 256,
            maxQueuedTransfers: Int = 10_000,
            maxPollWait: Duration = .seconds(1)
        ) {
            self.requests = requests
            self.maxConcurrentTransfers = maxConcurrentTransfers
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxCachedConnections = maxCachedConnections
            self.maxQueuedTransfers = maxQueuedTransfers
            self.maxPollWait = maxPollWait
        }
    }
}
