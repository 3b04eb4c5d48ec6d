import CCurl
import Synchronization

/// Sends HTTP requests with libcurl, one blocking call at a time: used to verify a client's
/// connection (call its public URL the way the InTouch Connector would). Many concurrent
/// transfers — event delivery to club systems — go through ``OutboundHTTPMultiClient`` instead,
/// which prepares requests the same way (`Transfer`).
///
/// ## Threading
/// ``send(_:)`` is synchronous and **blocks the calling thread** for up to the request's total
/// timeout (DNS, connect, TLS, waiting for the server). Call it only from your own worker threads
/// (a `Thread`, a dedicated serial `DispatchQueue`) — **never from Swift's cooperative thread
/// pool** (an `async` function, a `Task`, an actor): that pool has one thread per core, two here,
/// and a couple of slow servers would stall the whole process.
///
/// The client itself is `Sendable`: any number of threads may call `send` at the same time.
/// Each transfer runs on its own libcurl easy handle. Idle handles are kept in a small pool for
/// reuse (their connection, DNS and TLS-session caches make repeat requests cheaper); a handle is
/// lent to one `send` at a time and reset before it goes back, so a libcurl handle is never used
/// by two threads at once and no option — credentials included — survives into the next request.
///
/// libcurl is told `CURLOPT_NOSIGNAL` (signals and threads do not mix; the resolver is threaded,
/// so DNS still honours the timeouts). The process must ignore `SIGPIPE`, as the server does at
/// start-up: OpenSSL may write to a socket the peer has closed.
///
/// ## Defaults worth knowing
/// TLS peer and host-name verification are always on. Only `http` and `https` are allowed,
/// for the first request and for redirects; redirects are not followed unless the request asks.
/// No proxy is used unless configured (environment variables are ignored).
public final class OutboundHTTPClient: Sendable {
    /// The settings every request of this client uses.
    public let configuration: Configuration
    private let idleHandles: Mutex<[EasyHandle]>

    /// Creates a client. Cheap: handles and connections are made on first use.
    public init(configuration: Configuration = Configuration()) {
        // First use anywhere runs curl_global_init, once, before any handle exists.
        _ = CurlRuntime.initResult
        self.configuration = configuration
        self.idleHandles = Mutex([])
    }

    /// Sends `request` and waits for the complete response.
    ///
    /// Blocks the calling thread — never call it from the cooperative thread pool (see the type's
    /// documentation). Every HTTP status, 401 and 500 included, is returned as a response; an
    /// error means there was no (acceptable) response at all.
    ///
    /// - Throws: ``OutboundHTTPError`` when the request is invalid, the host does not resolve, the
    ///   connection fails or times out, TLS verification fails, or the response exceeds the limits.
    public func send(_ request: OutboundRequest) throws(OutboundHTTPError) -> OutboundResponse {
        let target = try request.validate()
        guard CurlRuntime.isInitialized else {
            throw OutboundHTTPError(
                kind: .other,
                message: "libcurl failed to initialise (curl_global_init returned \(CurlRuntime.initResult))",
                curlCode: CurlRuntime.initResult
            )
        }
        let handle = try checkOutHandle()
        defer { checkIn(handle) }  // resets the handle, after the transfer below is released
        let transfer = try Transfer(request: request, target: target, handle: handle, configuration: configuration)
        return try transfer.outcome(curl_easy_perform(handle.raw)).get()
    }

    /// Closes the idle handles and the connections they keep open. Requests in flight are not
    /// affected; later requests simply open new connections.
    public func closeIdleConnections() {
        let closing = idleHandles.withLock { idle in
            let all = idle
            idle.removeAll()
            return all
        }
        _ = closing  // released here, outside the lock: cleanup may talk to the network (TLS close)
    }

    // MARK: - Handle pool

    private func checkOutHandle() throws(OutboundHTTPError) -> EasyHandle {
        if let idle = idleHandles.withLock({ $0.popLast() }) { return idle }
        guard let handle = EasyHandle() else {
            throw OutboundHTTPError(kind: .other, message: "libcurl could not create an easy handle (out of memory?)")
        }
        return handle
    }

    private func checkIn(_ handle: EasyHandle) {
        handle.reset()
        let surplus: EasyHandle? = idleHandles.withLock { idle in
            guard idle.count < configuration.maxIdleHandles else { return handle }
            idle.append(handle)
            return nil
        }
        _ = surplus  // a handle the pool has no room for is cleaned up here, outside the lock
    }
}
