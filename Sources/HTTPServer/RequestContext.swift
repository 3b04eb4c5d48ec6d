import Logging

/// Per-request information handed to a handler alongside the ``Request``.
public struct RequestContext: Sendable {
    /// The request id: the client's well-formed `X-Request-Id` (1–200 of `[A-Za-z0-9._-]`),
    /// or a random one. Echoed in the response's `X-Request-Id`.
    public let requestID: String
    /// The route template that matched, e.g. `/v1/prospects/{id}`.
    public let routeTemplate: String
    /// Decoded values of the template's `{name}` segments.
    public let parameters: PathParameters
    /// The client's address (the TCP peer; a proxy's own address when behind one).
    public let remoteAddress: SocketAddress?
    /// The server's request limits (e.g. to report the body limit in an error).
    public let limits: HTTPServer.Limits

    private let baseLogger: Logger
    private var requestLogger: Logger?
    /// Where a deferred response goes; set by the server and by ``RouterTestClient`` (nil in a
    /// context built by hand).
    var responder: Responder?
    /// Set once the handler has deferred its response.
    var deferredResponse: DeferredResponse?

    /// Takes the response out of the handler's hands: the handler returns at once
    /// (what it returns is ignored) and the response goes out when the returned
    /// object is completed, from any thread. For a handler whose answer waits on
    /// work it does not do itself, such as a batch it joined, so that no thread
    /// waits with it; the connection reads no further request until then. Once per
    /// request. nil in a context built by hand (a unit test of one handler): answer
    /// directly there; ``RouterTestClient`` builds contexts that can defer.
    public mutating func deferResponse() -> DeferredResponse? {
        precondition(deferredResponse == nil, "a request's response can be deferred once")
        guard let responder else { return nil }
        let deferred = DeferredResponse(responder)
        deferredResponse = deferred
        return deferred
    }

    /// A context; the server builds one per request. Public so handlers can be unit-tested
    /// without a server.
    public init(
        requestID: String, logger: Logger, routeTemplate: String = "", parameters: PathParameters = PathParameters(),
        remoteAddress: SocketAddress? = nil, limits: HTTPServer.Limits = HTTPServer.Limits()
    ) {
        self.requestID = requestID
        self.baseLogger = logger
        self.routeTemplate = routeTemplate
        self.parameters = parameters
        self.remoteAddress = remoteAddress
        self.limits = limits
    }

    /// A logger carrying `request-id` metadata. Built on first use, so requests whose
    /// handler never logs do not pay for the metadata dictionary.
    public var logger: Logger {
        mutating get {
            if let requestLogger { return requestLogger }
            var logger = baseLogger
            logger[metadataKey: "request-id"] = .string(requestID)
            requestLogger = logger
            return logger
        }
        set {
            requestLogger = newValue
        }
    }
}
