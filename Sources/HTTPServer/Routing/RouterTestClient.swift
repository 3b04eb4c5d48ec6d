import Dispatch
import HTTPTypes
import Logging
import Synchronization

/// Runs requests through a router's handlers in-process, without a socket: for tests of
/// routing and of what handlers answer, in the manner of Hummingbird's router test client.
///
/// Each request goes the way the server sends it once parsed: route matching (404 and 405
/// with `Allow` as the server answers them), the per-request ``RequestContext`` (request id
/// from a well-formed `X-Request-Id` or a new one, a logger carrying it, path parameters,
/// limits), the admission check if one is given, the handler, its ``HTTPResponseError`` or
/// unknown error mapped as the server maps it, a deferred response awaited, and the
/// conditional step (`304` for a matching `If-None-Match`, ``ConditionalGET``). The returned
/// response carries `X-Request-Id`, as the one on the wire does.
///
/// What it leaves out is the wire: parsing, framing, `Content-Length` and `Date`, dropping a
/// `HEAD` response's body, keep-alive and timeouts. Those are tested over real sockets.
///
/// ```swift
/// var router = Router()
/// router.get("/items/{id}") { _, context in Response(text: "item \(try context.parameters.require("id"))") }
/// let client = try RouterTestClient(router: router)
/// let response = client.execute(.get, "/items/42")
/// #expect(response.status == .ok)
/// #expect(String(decoding: response.body, as: UTF8.self) == "item 42")
/// ```
///
/// Handlers run on the calling thread, which blocks while they do (and while a deferred
/// response is awaited): call it from a test that may block, as the handlers may.
public final class RouterTestClient: Sendable {
    private let routes: RouteTree
    private let logger: Logger
    private let limits: HTTPServer.Limits
    private let admissionCheck: (@Sendable (Request) -> Response?)?
    /// Runs what handlers hand over with ``DeferredResponse/completeOnWorker(_:request:context:)``.
    private let workers: WorkerPool
    private let overloadResponse: Response
    private let requestIDs = Mutex(RequestID.Generator())

    /// - Parameters:
    ///   - router: the routes, built into the same immutable tree the server builds.
    ///   - logger: what handlers log to (through the context's logger); nothing by default.
    ///   - limits: the limits handlers see in their context.
    ///   - admissionCheck: as ``HTTPServer/Admission/check``: asked before a handler runs on a
    ///     worker or on an inline route marked ``RouteOptions/admitted``.
    ///   - workerThreads: threads for handlers' work handed to a worker.
    public init(
        router: Router,
        logger: Logger = Logger(label: "router-test-client", factory: { _ in SwiftLogNoOpLogHandler() }),
        limits: HTTPServer.Limits = HTTPServer.Limits(),
        admissionCheck: (@Sendable (Request) -> Response?)? = nil,
        workerThreads: Int = 2
    ) throws {
        self.routes = try router.build()
        self.logger = logger
        self.limits = limits
        self.admissionCheck = admissionCheck
        self.workers = try WorkerPool(count: workerThreads, name: "test-worker")
        self.overloadResponse = HTTPServer.Admission.defaultOverloadResponse(retryAfterSeconds: 2)
    }

    deinit {
        _ = workers.stop(timeout: .seconds(5))
    }

    /// Runs a request for `target` (origin-form, e.g. `/v1/items/7?full=true`).
    public func execute(
        _ method: HTTPRequest.Method, _ target: String, headerFields: HTTPFields = [:], body: [UInt8] = []
    ) -> Response {
        execute(Request(method: method, target: target, headerFields: headerFields, body: body))
    }

    /// Runs `request` and returns its response.
    ///
    /// - Parameters:
    ///   - remoteAddress: the client address the handler sees in its context.
    ///   - deferredTimeout: how long to wait for a deferred response; past it the answer is
    ///     a 500 problem saying so, so that a handler that never completes fails its test.
    public func execute(
        _ request: Request, remoteAddress: SocketAddress? = nil, deferredTimeout: Duration = .seconds(10)
    ) -> Response {
        let requestID = Self.incomingRequestID(request.headerFields) ?? requestIDs.withLock { $0.make() }
        var response = respond(to: request, requestID: requestID, remoteAddress: remoteAddress, deferredTimeout: deferredTimeout)
        response.headerFields[.xRequestID] = requestID
        return response
    }

    private func respond(
        to request: Request, requestID: String, remoteAddress: SocketAddress?, deferredTimeout: Duration
    ) -> Response {
        switch routes.match(method: request.method, rawPath: request.rawPath) {
        case .notFound:
            return .routeNotFound
        case .methodNotAllowed(let allow):
            return .methodNotAllowed(allow: allow)
        case .found(let route, let parameters):
            if !route.isInline || route.isAdmitted, let admissionCheck, let refusal = admissionCheck(request) {
                return refusal
            }
            let deferred = DeferredOutcome()
            var context = RequestContext(
                requestID: requestID, logger: logger, routeTemplate: route.template, parameters: parameters,
                remoteAddress: remoteAddress, limits: limits)
            context.responder = Responder(workers: workers, overloadResponse: overloadResponse) { response in
                deferred.deliver(response)
            }
            var response = EventLoop.invoke(route.handler, request, &context)
            if context.deferredResponse != nil {
                // As on the server, the context lets go of the deferred response here: if the
                // handler kept no reference, it is answered 500 at once.
                context.deferredResponse = nil
                response = deferred.wait(timeout: deferredTimeout) ?? .problem(
                    status: .internalServerError,
                    detail: "The handler deferred its response and did not complete it within \(deferredTimeout).")
            }
            return ConditionalGET.apply(method: request.method, ifNoneMatch: ConditionalGET.candidate(request), to: response)
        }
    }

    private static func incomingRequestID(_ fields: HTTPFields) -> String? {
        guard let value = fields[.xRequestID], RequestID.isWellFormed(value) else { return nil }
        return value
    }
}

/// A deferred response, handed over from whichever thread completes it.
private final class DeferredOutcome: Sendable {
    private let response = Mutex<Response?>(nil)
    private let arrived = DispatchSemaphore(value: 0)

    func deliver(_ response: Response) {
        self.response.withLock { $0 = response }
        arrived.signal()
    }

    func wait(timeout: Duration) -> Response? {
        let nanoseconds = Int(min(timeout.nanoseconds, UInt64(Int.max)))
        guard arrived.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return nil }
        return response.withLock { $0 }
    }
}
