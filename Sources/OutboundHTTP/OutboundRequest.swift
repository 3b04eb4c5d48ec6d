/// One outbound HTTP request, described as plain values so it can be built on any thread and
/// handed to ``OutboundHTTPClient/send(_:)`` on a worker thread.
///
/// `description` and `debugDescription` redact the password and any `Authorization` or
/// `Proxy-Authorization` header value, so a request can be logged without leaking credentials.
public struct OutboundRequest: Sendable {
    /// HTTP Basic credentials (RFC 7617).
    ///
    /// They are handed to libcurl with `CURLOPT_USERNAME` / `CURLOPT_PASSWORD`, never put in the
    /// URL (URLs end up in logs, error messages and `CURLINFO_EFFECTIVE_URL`). libcurl does not
    /// send them to a different host when a redirect is followed.
    public struct BasicAuth: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
        /// The user-id; RFC 7617 does not allow a colon in it.
        public var username: String
        /// The password; any characters but NUL.
        public var password: String

        /// Creates Basic credentials.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        public var description: String { "BasicAuth(username: \(username), password: <redacted>)" }
        public var debugDescription: String { description }
    }

    /// The request method token, e.g. `GET`, `POST`, `PUT`, `DELETE`, `HEAD`.
    public var method: String
    /// An absolute `http://` or `https://` URL. It must not contain `user:password@`; use
    /// ``basicAuth`` instead.
    public var url: String
    /// Extra request header fields, sent in order. libcurl adds `Host`, `User-Agent`, `Accept`
    /// and (with a body) `Content-Length`; a field given here with the same name replaces libcurl's.
    public var headers: [(String, String)]
    /// The request body, sent as is. `nil` sends no body (and no `Content-Length` for GET/HEAD).
    public var body: [UInt8]?
    /// Credentials for HTTP Basic authentication, or `nil` for an unauthenticated request.
    public var basicAuth: BasicAuth?
    /// How long to wait for the TCP connection and, for `https`, the TLS handshake.
    public var connectTimeout: Duration
    /// How long the whole exchange may take, from start to the last byte of the response.
    public var totalTimeout: Duration
    /// How many redirects to follow (`0`, the default, returns the 3xx response itself).
    /// Redirects are only ever followed to `http` or `https` URLs.
    public var maxRedirects: Int
    /// Open a new connection for this request instead of reusing an idle one, and close it after.
    /// A verification step that reports connect latency wants this; delivery does not.
    public var freshConnection: Bool
    /// Refuse to connect to a loopback, private, link-local or otherwise non-public address
    /// (``AddressPolicy``), checked by libcurl for every address it connects to, after DNS: a
    /// name that resolved to a public address when a URL was accepted may resolve elsewhere
    /// later. A refused request fails with ``OutboundHTTPError/Kind/addressRefused``, nothing
    /// sent. A proxy, if configured, is what is connected to and so what is checked.
    public var refusePrivateAddresses: Bool
    /// For the multi client: if the request is still waiting in the client's queue (its host
    /// at its connection limit) at this instant, it is not started at all and completes with
    /// ``OutboundHTTPError/Kind/notStarted``. A sender that holds a lease on the work, as the
    /// webhook engine does, sets it so that nothing is sent after the lease may have passed
    /// to another sender. nil: no deadline.
    public var startDeadline: ContinuousClock.Instant?

    /// Creates a request; only the URL is required (a GET with a 5 s connect and 15 s total timeout).
    public init(
        method: String = "GET",
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        basicAuth: BasicAuth? = nil,
        connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(15),
        maxRedirects: Int = 0,
        freshConnection: Bool = false,
        refusePrivateAddresses: Bool = false,
        startDeadline: ContinuousClock.Instant? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.basicAuth = basicAuth
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxRedirects = maxRedirects
        self.freshConnection = freshConnection
        self.refusePrivateAddresses = refusePrivateAddresses
        self.startDeadline = startDeadline
    }
}

extension OutboundRequest: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        let shownHeaders = headers.map { name, value in
            OutboundRequest.isCredentialHeader(name) ? "\(name): <redacted>" : "\(name): \(value)"
        }
        var parts = ["\(method) \(RequestTarget.redactingUserinfo(url))"]
        if !shownHeaders.isEmpty { parts.append("headers: [\(shownHeaders.joined(separator: ", "))]") }
        if let body { parts.append("body: \(body.count) bytes") }
        if let basicAuth { parts.append("basicAuth: \(basicAuth)") }
        return "OutboundRequest(\(parts.joined(separator: "; ")))"
    }

    public var debugDescription: String { description }

    static func isCredentialHeader(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered == "authorization" || lowered == "proxy-authorization"
    }
}
