import HTTPTypes
import Logging

/// Routing, running handlers, and turning their results into bytes.
extension EventLoop {
    /// RFC 9110 §10.1.1: the head of a request with `Expect: 100-continue` is complete and
    /// within limits. Tell the client to send the body only if a handler will read it; otherwise
    /// answer with the final status now, without reading the body, and close.
    func expectContinue(_ connection: Connection) {
        let parser = connection.parser
        defer { if connection.closeAfterFlush { connection.lingerOnClose = true } }  // body left unread
        switch routes.match(method: parser.currentMethod, rawPath: parser.currentRawPath) {
        case .found(let route, _) where !route.isInline && shared.workers.isQueueFull:
            // Overloaded: say so now rather than have the client send a body we would not use.
            let requestID = incomingRequestID(parser.currentHeaderFields) ?? requestIDs.make()
            shed(
                connection, reason: .queueFull, requestID: requestID, method: parser.currentMethod.rawValue,
                path: String(parser.currentRawPath), routeIndex: route.index, start: MonotonicClock.nanoseconds(),
                omitBody: false, keepAlive: false, version: .http1_1)
        case .found:
            output.append(contentsOf: ResponseEncoder.continueResponse)
        case .notFound:
            let requestID = incomingRequestID(parser.currentHeaderFields) ?? requestIDs.make()
            writeResponse(
                connection, notFoundResponse(), requestID: requestID, method: parser.currentMethod.rawValue,
                path: String(parser.currentRawPath), routeIndex: LoopMetrics.unmatchedRoute,
                start: MonotonicClock.nanoseconds(), omitBody: false, keepAlive: false, version: .http1_1)
        case .methodNotAllowed(let allow):
            let requestID = incomingRequestID(parser.currentHeaderFields) ?? requestIDs.make()
            writeResponse(
                connection, methodNotAllowedResponse(allow: allow), requestID: requestID,
                method: parser.currentMethod.rawValue, path: String(parser.currentRawPath),
                routeIndex: LoopMetrics.unmatchedRoute, start: MonotonicClock.nanoseconds(), omitBody: false,
                keepAlive: false, version: .http1_1)
        }
    }

    /// Routes a complete request and runs its handler — inline, or on a worker with the
    /// connection paused until the response comes back.
    func dispatch(_ connection: Connection, _ parsed: ParsedRequest) {
        let request = parsed.request
        let start = MonotonicClock.nanoseconds()
        let requestID = incomingRequestID(request.headerFields) ?? requestIDs.make()
        let keepAlive = parsed.keepAlive && !shuttingDown && !connection.peerClosed
        let omitBody = request.method == .head
        let ifNoneMatch = ConditionalGET.candidate(request)
        switch routes.match(method: request.method, rawPath: request.rawPath) {
        case .notFound:
            writeResponse(
                connection, notFoundResponse(), requestID: requestID, method: request.method.rawValue,
                path: request.path, routeIndex: LoopMetrics.unmatchedRoute, start: start, omitBody: omitBody,
                keepAlive: keepAlive, version: request.version)
        case .methodNotAllowed(let allow):
            writeResponse(
                connection, methodNotAllowedResponse(allow: allow), requestID: requestID,
                method: request.method.rawValue, path: request.path, routeIndex: LoopMetrics.unmatchedRoute,
                start: start, omitBody: omitBody, keepAlive: keepAlive, version: request.version)
        case .found(let route, let parameters):
            var context = RequestContext(
                requestID: requestID, logger: logger, routeTemplate: route.template, parameters: parameters,
                remoteAddress: connection.remoteAddress, limits: limits)
            context.responder = Responder(
                handle: handle, fd: connection.fd, connectionID: connection.id, workers: shared.workers,
                overloadResponse: overloadResponse)
            if route.isInline {
                if route.isAdmitted, let admissionCheck, let refusal = admissionCheck(request) {
                    writeResponse(
                        connection, refusal, requestID: requestID, method: request.method.rawValue, path: request.path,
                        routeIndex: route.index, start: start, omitBody: omitBody, keepAlive: keepAlive,
                        version: request.version)
                    return
                }
                var response = Self.invoke(route.handler, request, &context)
                if context.deferredResponse != nil {
                    // Paused until the deferred response arrives, as for a worker's.
                    connection.inFlight = Connection.InFlight(
                        requestID: requestID, method: request.method.rawValue, path: request.path,
                        routeIndex: route.index, startNanos: start, omitBody: omitBody, keepAlive: keepAlive,
                        version: request.version, ifNoneMatch: ifNoneMatch, job: nil)
                    return
                }
                if ifNoneMatch != nil {
                    response = ConditionalGET.apply(method: request.method, ifNoneMatch: ifNoneMatch, to: response)
                }
                writeResponse(
                    connection, response, requestID: requestID, method: request.method.rawValue, path: request.path,
                    routeIndex: route.index, start: start, omitBody: omitBody, keepAlive: keepAlive,
                    version: request.version)
                return
            }
            if let admissionCheck, let refusal = admissionCheck(request) {
                writeResponse(
                    connection, refusal, requestID: requestID, method: request.method.rawValue, path: request.path,
                    routeIndex: route.index, start: start, omitBody: omitBody, keepAlive: keepAlive,
                    version: request.version)
                return
            }
            let handle = self.handle
            let fd = connection.fd
            let id = connection.id
            let initialContext = context
            let submission = shared.workers.submit {
                var context = initialContext
                let response = EventLoop.invoke(route.handler, request, &context)
                // A deferred response is sent by whoever completes it.
                let deferred = context.deferredResponse != nil
                return { if !deferred { handle.send(.completed(fd: fd, connectionID: id, response: response)) } }
            }
            switch submission {
            case .queued(let job):
                // The connection pauses until the response comes back; `updateTimer` arms the
                // queue-wait deadline.
                connection.inFlight = Connection.InFlight(
                    requestID: requestID, method: request.method.rawValue, path: request.path,
                    routeIndex: route.index, startNanos: start, omitBody: omitBody, keepAlive: keepAlive,
                    version: request.version, ifNoneMatch: ifNoneMatch, job: job)
            case .queueFull:
                shed(
                    connection, reason: .queueFull, requestID: requestID, method: request.method.rawValue,
                    path: request.path, routeIndex: route.index, start: start, omitBody: omitBody,
                    keepAlive: keepAlive, version: request.version)
            case .stopping:
                writeResponse(
                    connection, .problem(status: .serviceUnavailable, detail: "The server is shutting down."),
                    requestID: requestID, method: request.method.rawValue, path: request.path,
                    routeIndex: route.index, start: start, omitBody: omitBody, keepAlive: false,
                    version: request.version)
            }
        }
    }

    /// Why a request was shed.
    enum ShedReason: Int, CaseIterable {
        /// `maxQueuedRequests` requests were already waiting for a worker.
        case queueFull
        /// The request waited `maxQueueWait` without a worker picking it up.
        case queueTimeout

        var label: String {
            switch self {
            case .queueFull: return "queue_full"
            case .queueTimeout: return "queue_timeout"
            }
        }
    }

    /// Answers a request the workers cannot take with the overload response (503 +
    /// `Retry-After`), straight from the loop.
    func shed(
        _ connection: Connection, reason: ShedReason, requestID: String, method: String, path: String,
        routeIndex: Int, start: UInt64, omitBody: Bool, keepAlive: Bool, version: HTTPVersion
    ) {
        metrics.recordShed(reason: reason.rawValue, label: reason.label)
        shedSinceLog += 1
        if shedLoggedAt == 0 || now &- shedLoggedAt >= 10_000_000_000 {
            // One line per loop per 10 s at most: under overload a line per request would add
            // to the overload.
            logger.warning(
                "overloaded: answering 503 instead of queueing for a worker",
                metadata: [
                    "reason": .string(reason.label), "shed": .stringConvertible(shedSinceLog),
                    "waiting": .stringConvertible(shared.workers.waitingCount),
                    "max_queued_requests": .stringConvertible(shared.workers.maxWaiting),
                ])
            shedLoggedAt = now == 0 ? 1 : now
            shedSinceLog = 0
        }
        writeResponse(
            connection, overloadResponse, requestID: requestID, method: method, path: path, routeIndex: routeIndex,
            start: start, omitBody: omitBody, keepAlive: keepAlive, version: version)
    }

    /// A queued request waited `maxQueueWait` for a worker: withdraw it and answer 503. If a
    /// worker has started it meanwhile it runs to the end (its time is not the client's fault).
    func queueWaitExpired(_ connection: Connection) {
        guard let inFlight = connection.inFlight, let job = inFlight.job, shared.workers.withdraw(job) else { return }
        connection.inFlight = nil
        shed(
            connection, reason: .queueTimeout, requestID: inFlight.requestID, method: inFlight.method,
            path: inFlight.path, routeIndex: inFlight.routeIndex, start: inFlight.startNanos,
            omitBody: inFlight.omitBody,
            keepAlive: inFlight.keepAlive && !shuttingDown && !connection.peerClosed, version: inFlight.version)
        drive(connection)  // write it; serve pipelined input held back meanwhile
    }

    /// A worker's response for the connection's in-flight request.
    func finish(_ connection: Connection, response: Response, inFlight: Connection.InFlight) {
        var response = response
        if let ifNoneMatch = inFlight.ifNoneMatch {
            response = ConditionalGET.apply(
                method: inFlight.omitBody ? .head : .get, ifNoneMatch: ifNoneMatch, to: response)
        }
        writeResponse(
            connection, response, requestID: inFlight.requestID, method: inFlight.method, path: inFlight.path,
            routeIndex: inFlight.routeIndex, start: inFlight.startNanos, omitBody: inFlight.omitBody,
            keepAlive: inFlight.keepAlive && !shuttingDown && !connection.peerClosed, version: inFlight.version)
    }

    /// Runs a handler; an ``HTTPResponseError`` becomes its response, any other error a logged
    /// 500 whose details stay in the log.
    static func invoke(_ handler: RequestHandler, _ request: Request, _ context: inout RequestContext) -> Response {
        do {
            return try handler(request, &context)
        } catch let error as any HTTPResponseError {
            return error.makeResponse()
        } catch {
            context.logger.error(
                "request handler threw; answering 500",
                metadata: ["error": .string(String(reflecting: error)), "route": .string(context.routeTemplate)])
            return .problem(status: .internalServerError)
        }
    }

    /// A parse error: answer its status, then close (lingering).
    func respond(to error: HTTPParseError, on connection: Connection) {
        connection.lingerOnClose = true
        logger.debug(
            "rejected request", metadata: ["reason": "\(error.reason)", "status": .stringConvertible(error.status.code)])
        writeResponse(
            connection, .problem(status: error.status, detail: error.detail), requestID: requestIDs.make(),
            method: "-", path: "-", routeIndex: LoopMetrics.invalidRequest, start: MonotonicClock.nanoseconds(),
            omitBody: false, keepAlive: false, version: .http1_1)
    }

    /// A request that did not arrive in time: 408, then close.
    func respondTimeout(_ connection: Connection, detail: String) {
        connection.lingerOnClose = true
        writeResponse(
            connection, .problem(status: .requestTimeout, detail: detail), requestID: requestIDs.make(),
            method: "-", path: "-", routeIndex: LoopMetrics.invalidRequest, start: now, omitBody: false,
            keepAlive: false, version: .http1_1)
        connection.inbound = []
        connection.parser = HTTPRequestParser()
        flush(connection)
    }

    private func notFoundResponse() -> Response {
        .routeNotFound
    }

    private func methodNotAllowedResponse(allow: String) -> Response {
        .methodNotAllowed(allow: allow)
    }

    func incomingRequestID(_ fields: HTTPFields) -> String? {
        guard let value = fields[.xRequestID], RequestID.isWellFormed(value) else { return nil }
        return value
    }

    /// Encodes a response into the loop's output buffer and accounts for it.
    func writeResponse(
        _ connection: Connection, _ response: Response, requestID: String, method: String, path: String,
        routeIndex: Int, start: UInt64, omitBody: Bool, keepAlive: Bool, version: HTTPVersion
    ) {
        var keepAlive = keepAlive && !connection.closeAfterFlush
        if keepAlive, let value = response.headerFields[.connection], value.lowercased().contains("close") {
            keepAlive = false  // the handler asked to close
        }
        let field: ResponseEncoder.ConnectionField = !keepAlive ? .close : (version == .http1_0 ? .keepAlive : .none)
        let bytes = encoder.encode(response, requestID: requestID, connection: field, omitBody: omitBody, into: &output)
        if !keepAlive { connection.closeAfterFlush = true }
        removeTimer(connection)  // what comes next (idle, next request) is timed from now
        let duration = MonotonicClock.nanoseconds() &- start
        metrics.record(route: routeIndex, method: method, status: response.status.code, durationNanos: duration)
        if accessLogLines != nil {
            accessLogLines!.append(
                requestID: requestID, method: method, path: path, status: response.status.code,
                durationNanos: duration, bytesSent: bytes)
        } else if accessLog {
            logger.info(
                "request",
                metadata: [
                    "request-id": .string(requestID),
                    "method": .string(method),
                    "path": .string(path),
                    "status": .stringConvertible(response.status.code),
                    "duration_ms": .string(Self.milliseconds(duration)),
                    "bytes": .stringConvertible(bytes),
                ])
        }
    }

    /// "12.345" without going through floating-point formatting.
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let micros = nanoseconds / 1000
        let fraction = micros % 1000
        let padding = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return "\(micros / 1000).\(padding)\(fraction)"
    }
}
