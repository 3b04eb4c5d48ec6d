extension OutboundHTTPClient {
    /// Settings shared by every request a client sends.
    public struct Configuration: Sendable {
        /// Sent as `User-Agent` on every request: `connector-receiver/<version>`.
        public var userAgent: String
        /// The largest response body accepted; a longer one fails with `.responseTooLarge`
        /// rather than being truncated, so a caller never mistakes half a body for a whole one.
        public var maxResponseBodyBytes: Int
        /// The largest header section accepted (per response, status line included).
        public var maxResponseHeaderBytes: Int
        /// A PEM file of CA certificates to trust instead of the system store — for tests and
        /// private CAs. Verification itself is never switched off.
        public var caBundlePath: String?
        /// An explicit proxy URL (e.g. `http://proxy.internal:3128`). `nil` means no proxy at all:
        /// the `http_proxy`/`https_proxy` environment variables that libcurl would otherwise obey
        /// are ignored, so a verification reaches exactly the address it reports on.
        public var proxy: String?
        /// How many idle easy handles (each with its own connection and TLS-session cache) to
        /// keep for reuse. `0` gives every request a new handle and a new connection.
        /// Each idle handle may hold a few idle connections open (libcurl closes those older
        /// than two minutes when the handle is next used).
        public var maxIdleHandles: Int

        /// - Parameter version: the server's version, for `User-Agent: connector-receiver/<version>`.
        public init(
            version: String = "dev",
            maxResponseBodyBytes: Int = 1 << 20,
            maxResponseHeaderBytes: Int = 64 << 10,
            caBundlePath: String? = nil,
            proxy: String? = nil,
            maxIdleHandles: Int = 4
        ) {
            self.userAgent = "connector-receiver/\(version)"
            self.maxResponseBodyBytes = maxResponseBodyBytes
            self.maxResponseHeaderBytes = maxResponseHeaderBytes
            self.caBundlePath = caBundlePath
            self.proxy = proxy
            self.maxIdleHandles = maxIdleHandles
        }
    }
}
