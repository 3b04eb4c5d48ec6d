import Synchronization

/// The response to a request whose handler returned without it: sent when someone
/// calls ``complete(_:)``, from any thread (see ``RequestContext/deferResponse()``).
///
/// Exactly one response goes out: the first `complete` wins and later calls are
/// ignored. A deferred response dropped unanswered is answered `500` when it goes
/// away, so its connection never waits forever.
public final class DeferredResponse: Sendable {
    private let responder: Responder
    private let answered = Atomic<Bool>(false)

    init(_ responder: Responder) {
        self.responder = responder
    }

    deinit {
        if !answered.load(ordering: .acquiring) {
            responder.send(.problem(status: .internalServerError, detail: "The request's handler ended without an answer."))
        }
    }

    /// Sends `response` (the first call only). Cheap on any thread: it hands the
    /// response to the connection's event loop, which writes it.
    public func complete(_ response: Response) {
        guard !answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        responder.send(response)
    }

    /// Runs `handler` on a worker thread, where it may block, and sends what it
    /// returns (an ``HTTPResponseError`` it throws becomes its response, as for any
    /// handler). When the workers' queue is full, answers the overload response
    /// (`503` with `Retry-After`) at once; while the server stops, `503`.
    public func completeOnWorker(_ handler: @escaping RequestHandler, request: Request, context: RequestContext) {
        var forWorker = context
        forWorker.deferredResponse = nil
        let initialContext = forWorker
        let submission = responder.workers.submit { [self] in
            var context = initialContext
            let response = EventLoop.invoke(handler, request, &context)
            return { self.complete(response) }
        }
        switch submission {
        case .queued: break
        case .queueFull: complete(responder.overloadResponse)
        case .stopping: complete(.problem(status: .serviceUnavailable, detail: "The server is shutting down."))
        }
    }
}

/// Where a request's response goes: its connection, on its event loop; or, for a request run
/// without a connection (``RouterTestClient``), whoever waits for it.
struct Responder: Sendable {
    private enum Destination: Sendable {
        case connection(EventLoopHandle, fd: Int32, connectionID: UInt64)
        case waiter(@Sendable (Response) -> Void)
    }

    private let destination: Destination
    let workers: WorkerPool
    let overloadResponse: Response

    init(handle: EventLoopHandle, fd: Int32, connectionID: UInt64, workers: WorkerPool, overloadResponse: Response) {
        self.destination = .connection(handle, fd: fd, connectionID: connectionID)
        self.workers = workers
        self.overloadResponse = overloadResponse
    }

    init(workers: WorkerPool, overloadResponse: Response, deliver: @escaping @Sendable (Response) -> Void) {
        self.destination = .waiter(deliver)
        self.workers = workers
        self.overloadResponse = overloadResponse
    }

    func send(_ response: Response) {
        switch destination {
        case .connection(let handle, let fd, let connectionID):
            handle.send(.completed(fd: fd, connectionID: connectionID, response: response))
        case .waiter(let deliver):
            deliver(response)
        }
    }
}
