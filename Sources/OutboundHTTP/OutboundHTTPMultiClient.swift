import CCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends many HTTP requests at once over libcurl's multi interface, without a thread per
/// transfer: the client for event delivery to club systems.
///
/// ```swift
/// let client = try OutboundHTTPMultiClient()
/// let request = OutboundRequest(method: "POST", url: endpointURL,
///                               headers: [("Content-Type", "application/json")] + signatureHeaders,
///                               body: eventJSON)  // connect 5 s, total 15 s by default
/// client.submit(request) { result in          // on the driver thread: hand off, don't block
///     resultsQueue.async { record(result) }     // response.status, .retryAfter(now:), or error.kind
/// }
/// let response = try await client.send(request)  // the same from async code
/// client.close()  // every transfer not yet answered completes with `.cancelled`
/// ```
///
/// ## Design
/// One **driver thread** owns the libcurl multi handle and every easy handle added to it, as
/// libcurl requires. It loops: take new submissions and cancellations from a mutex-guarded
/// inbox, start waiting transfers while there are free slots, `curl_multi_perform`, collect the
/// finished ones with `curl_multi_info_read`, call their completions, then sleep in
/// `curl_multi_poll` until a socket is ready, libcurl's next timer (connect and total
/// timeouts) is due, or a submitter calls `curl_multi_wakeup`. `curl_multi_poll` rather than
/// the socket interface (`CURLMOPT_SOCKETFUNCTION` with our own epoll): it is a few lines
/// instead of a second event loop, and its cost — polling every transfer's socket on each
/// wake — is small at the hundreds of concurrent deliveries one instance makes; the socket
/// interface is the step up if that ever shows in a profile.
///
/// **Limits**: at most ``Configuration/maxConcurrentTransfers`` run at once and at most
/// ``Configuration/maxConnectionsPerHost`` per host (name and port); the rest wait in one queue
/// per host, served round-robin, so a slow or dead endpoint holds only its own slots. At most
/// ``Configuration/maxQueuedTransfers`` wait; more are refused with `.overloaded`. Each
/// request's `connectTimeout` and `totalTimeout` are enforced by libcurl and run from the
/// moment the transfer starts, not from submission.
///
/// **Connections** are kept in the multi handle's cache and reused by the next transfer to
/// the same host (`CURLINFO_NUM_CONNECTS` is `0` then). Every transfer is HTTP/1.1 (no h2
/// negotiation over TLS), with TLS peer and host verification always on — the same request
/// preparation as ``OutboundHTTPClient``: the same validation, options, limits and errors.
///
/// ## Completions
/// Each submission's completion runs exactly once. For an accepted transfer it runs on the
/// driver thread, with no lock held, after the transfer has left the multi handle — so it
/// **must return quickly and never block** (no database call, no `send` of another client):
/// hand the result to your own queue or resume a continuation. It may call ``submit(_:completion:)``,
/// ``cancel(_:)`` and ``close()``. A request refused at once (invalid, client closed,
/// queue full) has its completion called on the submitting thread before `submit` returns.
///
/// The process must ignore `SIGPIPE` (the server does so at start-up).
public final class OutboundHTTPMultiClient: Sendable {
    /// Called once with the outcome of a submitted request.
    public typealias Completion = @Sendable (Result<OutboundResponse, OutboundHTTPError>) -> Void

    /// Names one submitted transfer, for ``OutboundHTTPMultiClient/cancel(_:)``.
    public struct TransferID: Hashable, Sendable, CustomStringConvertible {
        let rawValue: UInt64
        public var description: String { "transfer \(rawValue)" }
    }

    /// A snapshot of the client's load.
    public struct Load: Sendable, Hashable {
        /// Transfers running on the multi handle.
        public var running: Int
        /// Transfers submitted and not yet started.
        public var waiting: Int
    }

    /// The settings this client was made with.
    public let configuration: Configuration
    private let shared: MultiShared
    private let driverThread: pthread_t
    /// Whether the driver thread has been joined (or detached); guards against joining twice.
    private let joined = Mutex(false)

    /// Creates the multi handle and starts the driver thread.
    ///
    /// - Throws: ``OutboundHTTPError`` (kind `.other`) when libcurl cannot initialise, refuses a
    ///   multi option, or the thread cannot be started; the message says which.
    public init(configuration: Configuration = Configuration()) throws(OutboundHTTPError) {
        precondition(configuration.maxConcurrentTransfers > 0 && configuration.maxConnectionsPerHost > 0,
                     "maxConcurrentTransfers and maxConnectionsPerHost must be positive")
        guard CurlRuntime.isInitialized else {
            throw OutboundHTTPError(
                kind: .other,
                message: "libcurl failed to initialise (curl_global_init returned \(CurlRuntime.initResult))",
                curlCode: CurlRuntime.initResult
            )
        }
        guard let multi = MultiHandle() else {
            throw OutboundHTTPError(kind: .other, message: "libcurl could not create a multi handle (out of memory?)")
        }
        for (option, value, name) in [
            (CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost, "CURLMOPT_MAX_HOST_CONNECTIONS"),
            (CURLMOPT_MAXCONNECTS, configuration.maxCachedConnections, "CURLMOPT_MAXCONNECTS"),
        ] {
            let code = multi.set(option, value)
            guard code == CURLM_OK else {
                throw OutboundHTTPError(
                    kind: .other,
                    message: "libcurl refused \(name)=\(value): \(MultiHandle.describe(code))"
                )
            }
        }
        self.configuration = configuration
        let shared = MultiShared(multi: multi)
        self.shared = shared

        let start = Unmanaged.passRetained(DriverStart(shared: shared, configuration: configuration)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let start = Unmanaged<DriverStart>.fromOpaque(context!).takeRetainedValue()
            MultiDriver(shared: start.shared, configuration: start.configuration).run()
            return nil
        }, start)
        guard result == 0 else {
            Unmanaged<DriverStart>.fromOpaque(start).release()
            throw OutboundHTTPError(
                kind: .other,
                message: "could not start the outbound HTTP driver thread: \(OutboundHTTPError.describeErrno(Int(result)) ?? "error \(result)")"
            )
        }
        driverThread = thread
    }

    deinit {
        close()
    }

    // MARK: - Submitting

    /// Queues `request` and returns at once; `completion` gets the response or the error.
    ///
    /// Every HTTP status is a response; an error means no (acceptable) response arrived — see
    /// ``OutboundHTTPError/Kind``, which here adds `.cancelled` and `.overloaded`. See the type's
    /// documentation for the thread the completion runs on and what it may do.
    @discardableResult
    public func submit(_ request: OutboundRequest, completion: @escaping Completion) -> TransferID {
        let validation = Result { () throws(OutboundHTTPError) -> RequestTarget in try request.validate() }
        let limit = configuration.maxQueuedTransfers
        let (id, refusal) = shared.inbox.withLock { inbox -> (TransferID, OutboundHTTPError?) in
            let id = TransferID(rawValue: inbox.nextID)
            inbox.nextID += 1
            let target: RequestTarget
            switch validation {
            case .failure(let error): return (id, error)
            case .success(let valid): target = valid
            }
            if inbox.closing { return (id, .clientClosed(target: target)) }
            guard inbox.waiting < limit else {
                return (id, OutboundHTTPError(
                    kind: .overloaded,
                    message: "not sent to \(target.authority): \(limit) transfers are already waiting — offer it again once some have completed"
                ))
            }
            inbox.waiting += 1
            inbox.submissions.append(MultiSubmission(id: id, request: request, target: target, completion: completion))
            shared.multi.wakeup()
            return (id, nil)
        }
        if let refusal { completion(.failure(refusal)) }
        return id
    }

    /// Sends `request` and suspends until the response arrives, without blocking a thread.
    ///
    /// Cancelling the calling task cancels the transfer: it then throws `.cancelled`.
    public func send(_ request: OutboundRequest) async throws(OutboundHTTPError) -> OutboundResponse {
        let latch = CancellationLatch()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<OutboundResponse, OutboundHTTPError>, Never>) in
                let id = submit(request) { continuation.resume(returning: $0) }
                if latch.record(id) { cancel(id) }
            }
        } onCancel: {
            if let id = latch.cancel() { self.cancel(id) }
        }
        return try result.get()
    }

    /// Cancels one transfer: if it has not completed yet, it completes with `.cancelled` (and
    /// its connection, if it was mid-exchange, is closed). Unknown or finished ids are ignored.
    public func cancel(_ id: TransferID) {
        shared.inbox.withLock { inbox in
            guard !inbox.closing else { return }
            inbox.cancellations.append(id)
            shared.multi.wakeup()
        }
    }

    /// How many transfers run and wait right now (as of the driver's last pass).
    public var load: Load {
        shared.inbox.withLock { Load(running: $0.running, waiting: $0.waiting) }
    }

    // MARK: - Closing

    /// Stops the client: every transfer not yet completed — running or waiting — completes with
    /// `.cancelled`, later submissions are refused with `.cancelled`, and the cached connections
    /// are closed. Returns once all of that has happened and the driver thread has ended, which
    /// takes no longer than removing the transfers (nothing waits for a server). Idempotent; any
    /// thread. Called from a completion (on the driver thread) it returns at once and the
    /// driver finishes right after that completion.
    public func close() {
        shared.inbox.withLock { inbox in
            guard !inbox.closing else { return }
            inbox.closing = true
            shared.multi.wakeup()
        }
        let onDriverThread = pthread_equal(pthread_self(), driverThread) != 0
        joined.withLock { joined in
            guard !joined else { return }
            joined = true
            // The driver cannot wait for itself: let it end on its own and free its resources.
            _ = onDriverThread ? pthread_detach(driverThread) : pthread_join(driverThread, nil)
        }
    }
}

/// What submitters and the driver thread share: the inbox under its mutex, and the multi handle
/// (of which other threads only ever call `wakeup`, under that mutex).
final class MultiShared: Sendable {
    let inbox = Mutex(MultiInbox())
    let multi: MultiHandle

    init(multi: MultiHandle) {
        self.multi = multi
    }
}

/// The mutex-guarded hand-over between submitters and the driver thread.
struct MultiInbox: ~Copyable {
    var submissions: [MultiSubmission] = []
    var cancellations: [OutboundHTTPMultiClient.TransferID] = []
    var closing = false
    var nextID: UInt64 = 1
    /// Submitted and not yet started (in this inbox or in the driver's host queues).
    var waiting = 0
    /// Running on the multi handle, as of the driver's last pass.
    var running = 0
}

/// One accepted request on its way to the driver.
struct MultiSubmission: Sendable {
    var id: OutboundHTTPMultiClient.TransferID
    var request: OutboundRequest
    var target: RequestTarget
    var completion: OutboundHTTPMultiClient.Completion
}

/// What the new thread needs to build its driver (passed through pthread_create's `void *`).
private final class DriverStart: Sendable {
    let shared: MultiShared
    let configuration: OutboundHTTPMultiClient.Configuration

    init(shared: MultiShared, configuration: OutboundHTTPMultiClient.Configuration) {
        self.shared = shared
        self.configuration = configuration
    }
}

/// Connects an async `send` with task cancellation, which may come before or after the
/// transfer has an id.
private final class CancellationLatch: Sendable {
    private let state = Mutex<(id: OutboundHTTPMultiClient.TransferID?, cancelled: Bool)>((nil, false))

    /// Records the id; true when the task was cancelled before it existed.
    func record(_ id: OutboundHTTPMultiClient.TransferID) -> Bool {
        state.withLock { state in
            state.id = id
            return state.cancelled
        }
    }

    /// Marks the task cancelled; the id to cancel, if the transfer exists already.
    func cancel() -> OutboundHTTPMultiClient.TransferID? {
        state.withLock { state in
            state.cancelled = true
            return state.id
        }
    }
}

extension OutboundHTTPError {
    /// The answer to a transfer the client stopped before it completed.
    static func cancelled(target: RequestTarget, reason: String) -> OutboundHTTPError {
        OutboundHTTPError(kind: .cancelled, message: "the request to \(target.authority) was cancelled \(reason) — whether the server received it is unknown")
    }

    static func notStarted(target: RequestTarget) -> OutboundHTTPError {
        OutboundHTTPError(kind: .notStarted, message: "not sent to \(target.authority): it waited for a connection past its start deadline")
    }

    static func clientClosed(target: RequestTarget) -> OutboundHTTPError {
        OutboundHTTPError(kind: .cancelled, message: "not sent to \(target.authority): the outbound HTTP client is closed")
    }
}
