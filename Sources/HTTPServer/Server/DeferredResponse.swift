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

/// Where a request's response goes: its connection, on its event loop.
struct Responder: Sendable {
    let handle: EventLoopHandle
    let fd: Int32
    let connectionID: UInt64
    let workers: WorkerPool
    let overloadResponse: Response

    func send(_ response: Response) {
        handle.send(.completed(fd: fd, connectionID: connectionID, response: response))
    }
}
