import Glibc

/// Reading, parsing, writing and closing connections.
extension EventLoop {
    /// May more requests be parsed from this connection's input now? Requests are served one
    /// at a time per connection: pipelined requests wait until the previous response is
    /// queued, which keeps responses in order and keeps a pipelining client from occupying
    /// more than one worker (RFC 9112 §9.3.2 allows parallelism only for safe methods).
    private func canProcessInput(_ connection: Connection) -> Bool {
        connection.inFlight == nil && !connection.closeAfterFlush && !connection.lingering
            && output.count + (connection.outbound.count - connection.outboundOffset) < Self.outputHighWater
    }

    /// May we read from the socket? Not while input is held back or a response is blocked
    /// (backpressure: the kernel buffer fills and TCP flow control slows the client) — except
    /// when lingering, where input is read only to be discarded. Retained input stays bounded:
    /// it is a partial head (bounded by the limits) or at most one read held back.
    private func canRead(_ connection: Connection) -> Bool {
        if connection.lingering { return true }
        return canProcessInput(connection) && !connection.hasPendingOutput
    }

    /// Does all the work currently possible for a connection: parses retained input, reads
    /// until the socket is drained (or a per-turn limit), writes what was produced, and arms
    /// the timer matching its new state.
    func drive(_ connection: Connection) {
        if !connection.inbound.isEmpty && canProcessInput(connection) {
            processInbound(connection)  // input held back while the previous request ran
        }
        var reads = 0
        while !connection.isClosed && connection.readable && canRead(connection) {
            if reads == Self.maxReadsPerTurn {
                ready.append((connection.fd, connection.id))
                break
            }
            reads += 1
            switch SocketIO.read(connection.fd, into: readBuffer) {
            case .transferred(let count):
                // epoll(7): for stream sockets a short read means the receive buffer is empty,
                // so the next edge will tell us about new data — one read call saved per request.
                // After a hang-up notice we read on until EOF is observed.
                if count < readBuffer.count && !connection.peerHangupSeen { connection.readable = false }
                if connection.lingering { continue }  // discarding
                receive(connection, UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            case .wouldBlock:
                connection.readable = false
            case .endOfFile:
                connection.readable = false
                peerClosed(connection)
            case .failed:
                close(connection)
            }
        }
        guard !connection.isClosed else { return }
        flush(connection)
        guard !connection.isClosed else { return }
        // Writing may have lifted the backpressure that stopped us (a deep pipeline whose
        // responses filled the output): no new edge will report input we already hold or have
        // not read yet, so continue on the next turn.
        // (Input merely waiting for more bytes is not held back: re-driving it would spin.)
        if (connection.inputHeldBack && canProcessInput(connection))
            || (connection.readable && canRead(connection) && reads < Self.maxReadsPerTurn) {
            ready.append((connection.fd, connection.id))
        }
        updateTimer(connection)
    }

    /// New bytes from the socket.
    private func receive(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        if connection.inbound.isEmpty {
            // Common case: parse straight from the loop's read buffer, keep only a remainder.
            let consumed = parseRequests(connection, bytes)
            if consumed < bytes.count {
                connection.inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        } else {
            connection.inbound.append(contentsOf: bytes)
            if canProcessInput(connection) {
                processInbound(connection)
            } else {
                connection.inputHeldBack = true
            }
        }
    }

    /// Parses retained input.
    private func processInbound(_ connection: Connection) {
        // Parse from a retained copy: even if handling a request replaced `inbound`, the
        // bytes being parsed stay alive (and nothing holds an access to the property).
        let consumed: Int
        do {
            let retained = connection.inbound
            consumed = retained.withUnsafeBytes { parseRequests(connection, $0) }
        }  // released here, so trimming below does not copy
        if consumed == connection.inbound.count {
            connection.inbound = []  // release the storage: idle connections hold no buffer
        } else if consumed > 0 {
            connection.inbound.removeFirst(consumed)
        }
    }

    /// Feeds the parser and handles each event until it needs more data or the connection must
    /// stop processing. Returns the number of bytes consumed. Never closes the connection
    /// (callers may be iterating over its buffer); it only sets flags.
    private func parseRequests(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        connection.inputHeldBack = false
        while canProcessInput(connection) {
            let (event, used) = connection.parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...]), limits: limits)
            offset += used
            switch event {
            case .needMoreData:
                return offset
            case .expectContinue:
                expectContinue(connection)
            case .request(let parsed):
                dispatch(connection, parsed)
            case .error(let error):
                respond(to: error, on: connection)
                return offset
            }
        }
        connection.inputHeldBack = offset < bytes.count
        return offset
    }

    /// The peer finished sending. Requests already received are answered; then we close.
    private func peerClosed(_ connection: Connection) {
        connection.peerClosed = true
        if connection.lingering {
            close(connection)
            return
        }
        // A partial request can never complete; whatever was answered is flushed first.
        connection.closeAfterFlush = true
    }

    // MARK: - Writing

    /// Writes the responses produced while serving this connection.
    func flush(_ connection: Connection) {
        if !output.isEmpty {
            if connection.hasPendingOutput {
                connection.outbound.append(contentsOf: output)
            } else {
                var written = 0
                let result = output.withUnsafeBytes { bytes -> IOResult in
                    while written < bytes.count {
                        let result = SocketIO.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[written...]))
                        guard case .transferred(let count) = result else { return result }
                        written += count
                    }
                    return .transferred(written)
                }
                switch result {
                case .transferred:
                    break
                case .wouldBlock:
                    // The kernel buffer is full: keep the rest and wait for EPOLLOUT (always
                    // registered, edge-triggered, so no epoll_ctl here).
                    connection.outbound = Array(output[written...])
                    connection.outboundOffset = 0
                    setTimer(connection, .write, restart: true)
                case .failed, .endOfFile:
                    resetOutput()
                    close(connection)
                    return
                }
            }
            resetOutput()
        }
        if !connection.hasPendingOutput { outputDrained(connection) }
    }

    private func resetOutput() {
        if output.capacity > 1024 * 1024 {
            output = []  // do not keep a buffer sized for one huge response
            output.reserveCapacity(64 * 1024)
        } else {
            output.removeAll(keepingCapacity: true)
        }
    }

    /// EPOLLOUT: continue a blocked response.
    func writeOutbound(_ connection: Connection) {
        var progressed = false
        while connection.hasPendingOutput {
            let result = connection.outbound.withUnsafeBytes { bytes in
                SocketIO.write(connection.fd, UnsafeRawBufferPointer(rebasing: bytes[connection.outboundOffset...]))
            }
            switch result {
            case .transferred(let count):
                connection.outboundOffset += count
                progressed = true
            case .wouldBlock:
                if progressed { setTimer(connection, .write, restart: true) }  // slow but alive
                return
            case .failed, .endOfFile:
                close(connection)
                return
            }
        }
        connection.outbound = []
        connection.outboundOffset = 0
        outputDrained(connection)
    }

    /// Everything queued has been written.
    private func outputDrained(_ connection: Connection) {
        guard connection.closeAfterFlush, connection.inFlight == nil, !connection.lingering else { return }
        let inputMayBeUnread = connection.lingerOnClose || connection.readable || !connection.inbound.isEmpty
            || !connection.parser.isAtMessageBoundary
        if connection.peerClosed || !inputMayBeUnread {
            close(connection)  // nothing unread: a plain close sends FIN after the response
        } else {
            startLingeringClose(connection)
        }
    }

    /// Closing a socket with unread input makes the kernel send a reset, which can destroy
    /// the response we just wrote before the client reads it (RFC 9112 §9.6). So: shut down
    /// our sending side (the client sees the end of the response), then read and discard
    /// until the client closes or the lingering timeout passes.
    private func startLingeringClose(_ connection: Connection) {
        connection.lingering = true
        connection.inbound = []
        connection.parser = HTTPRequestParser()
        _ = Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        setTimer(connection, .linger)
        // Input may already be waiting and no new edge would announce it: drive it next turn.
        connection.readable = true
        ready.append((connection.fd, connection.id))
    }

    /// Closes abortively: `SO_LINGER` with a zero timeout makes `close` discard unsent data
    /// and reset the connection. For peers that stopped reading, a graceful close would leave
    /// the kernel trying to deliver the rest of the response for minutes.
    func abort(_ connection: Connection) {
        guard !connection.isClosed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(connection)
    }

    /// Closes the descriptor (exactly once) and forgets the connection. A worker still running
    /// its request will find no connection with this id and drop the response.
    func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        removeTimer(connection)
        if let job = connection.inFlight?.job {
            // Nobody will read the response: a request still waiting for a worker never runs.
            _ = shared.workers.withdraw(job)
        }
        SocketIO.close(connection.fd)
        connections[Int(connection.fd)] = nil
        connection.inbound = []
        connection.outbound = []
        connectionCount -= 1
        shared.openConnections.subtract(1, ordering: .relaxed)
        shared.connectionsMeter?.decrement()
    }

    // MARK: - Timers

    /// Arms the timer that matches what the connection is waiting for.
    private func updateTimer(_ connection: Connection) {
        if connection.lingering {
            setTimer(connection, .linger)
        } else if connection.hasPendingOutput {
            setTimer(connection, .write)
        } else if let inFlight = connection.inFlight {
            // Waiting for a worker is bounded (admission control); once a worker has started
            // the request the `.queued` timer's expiry finds nothing to withdraw and leaves it:
            // the handler's time is not the client's fault. Nor is a deferred response's.
            if queueWaitLimited && inFlight.job != nil { setTimer(connection, .queued) } else { removeTimer(connection) }
        } else if connection.parser.isReadingBody {
            setTimer(connection, .body)
        } else if !connection.inbound.isEmpty || !connection.parser.isAtMessageBoundary {
            setTimer(connection, .header)
        } else if shuttingDown {
            close(connection)  // idle during shutdown
        } else {
            setTimer(connection, .idle)
        }
    }

    /// Arms `kind` unless it is already armed (then the original deadline stands, e.g. the
    /// header timeout counts from the first byte, not the latest).
    func setTimer(_ connection: Connection, _ kind: TimerKind, restart: Bool = false) {
        if connection.timerKind == kind && !restart { return }
        removeTimer(connection)
        connection.timerKind = kind
        connection.deadline = now + timerDurations[kind.rawValue]
        let tail = timerTails[kind.rawValue]
        connection.timerPrevious = tail
        connection.timerNext = -1
        if tail >= 0 {
            connections[Int(tail)]!.timerNext = connection.fd
        } else {
            timerHeads[kind.rawValue] = connection.fd
        }
        timerTails[kind.rawValue] = connection.fd
    }

    func removeTimer(_ connection: Connection) {
        let kind = connection.timerKind
        guard kind != .none else { return }
        let previous = connection.timerPrevious
        let next = connection.timerNext
        if previous >= 0 {
            connections[Int(previous)]!.timerNext = next
        } else {
            timerHeads[kind.rawValue] = next
        }
        if next >= 0 {
            connections[Int(next)]!.timerPrevious = previous
        } else {
            timerTails[kind.rawValue] = previous
        }
        connection.timerKind = .none
        connection.timerPrevious = -1
        connection.timerNext = -1
    }

    func expireTimers() {
        for index in 0..<TimerKind.armedCount {
            while true {
                let head = timerHeads[index]
                guard head >= 0, let connection = connections[Int(head)], connection.deadline <= now else { break }
                removeTimer(connection)
                timerFired(connection, TimerKind(rawValue: index)!)
            }
        }
    }

    private func timerFired(_ connection: Connection, _ kind: TimerKind) {
        switch kind {
        case .write:
            abort(connection)
        case .idle, .linger, .none:
            close(connection)
        case .header:
            if connection.inbound.isEmpty && connection.parser.isAtMessageBoundary {
                close(connection)
            } else {
                // RFC 9110 §15.5.9: 408 — the server would like to close this unused connection.
                respondTimeout(connection, detail: "The request header section was not received in time.")
            }
        case .body:
            respondTimeout(connection, detail: "The request body was not received in time.")
        case .queued:
            queueWaitExpired(connection)
        }
    }
}
