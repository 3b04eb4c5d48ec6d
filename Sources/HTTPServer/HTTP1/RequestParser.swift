import HTTPTypes

/// A request that finished parsing, with what the connection needs to know about it.
struct ParsedRequest: Sendable {
    var request: Request
    /// RFC 9112 §9.3: whether the connection may carry another request after this one.
    var keepAlive: Bool
}

/// An incremental HTTP/1.1 request parser (RFC 9112 message syntax, RFC 9110 semantics).
///
/// ### Feeding
/// The caller passes every byte it has not seen consumed: `parse(_:limits:)` returns one event
/// and how many bytes it consumed. Head bytes are *not* consumed until the whole header section
/// has arrived, so the caller keeps them (typically in the connection's small inbound buffer)
/// and passes them again, followed by new bytes; the parser remembers how far it scanned, so
/// the total work stays linear. Body bytes are consumed (copied into the request body) as they
/// come. The outcome depends only on the byte sequence, never on how it was split.
///
/// ### Strictness
/// Anything ambiguous is rejected rather than repaired — each check cites the rule it
/// implements. Lines must end in CRLF: a bare LF is rejected (RFC 9112 §2.2 permits accepting
/// it, but lenient line parsing is a request-smuggling vector when a proxy in front of us
/// disagrees). Every error is final: the connection answers with the error's status and closes.
///
/// The parser holds no buffers while idle, so an idle keep-alive connection costs only the
/// few words of this struct.
///
/// ### Files
/// This file drives the phases of a message; `RequestParser+Head.swift` scans the head and
/// parses the request line, `RequestParser+FieldLines.swift` the field lines. The target and a
/// chunked body are separate state machines: ``RequestTarget`` and ``ChunkedBodyDecoder``. The
/// stored state is internal rather than private so that those extensions can reach it.
struct HTTPRequestParser {
    enum Event {
        /// Everything given was consumed or retained; call again with more bytes.
        case needMoreData
        /// The head of a request with `Expect: 100-continue` and a body is complete and within
        /// limits; the body has not been read. The caller decides whether to send
        /// `100 Continue` (RFC 9110 §10.1.1), then keeps feeding.
        case expectContinue
        /// A complete request.
        case request(ParsedRequest)
        /// The request is invalid; the connection must answer `status` and close.
        case error(HTTPParseError)
    }

    enum State {
        case head
        case fixedBody
        case chunked
        case failed(HTTPParseError)
    }

    /// RFC 9112 §2.2 asks servers to ignore "at least one" empty line before a request line;
    /// a few are tolerated, an endless stream of them is not a request.
    static let maxLeadingEmptyLines = 8

    var state = State.head

    // Head scanning; offsets are relative to the first unconsumed byte.
    var scanOffset = 0  // start of the first line not yet processed
    var searchOffset = 0  // bytes already searched for LF (no LF before here past scanOffset)
    var headersStart = -1  // offset of the header section, -1 until the request line is parsed
    var emptyLinesSkipped = 0

    // Request line.
    var method = HTTPRequest.Method.get
    var version = HTTPVersion.http1_1
    var requestTarget = RequestTarget()

    // Header section.
    var fields = HTTPFields()
    var fieldCount = 0
    var contentLength: Int?
    var transferCodings: [String]?
    var hostCount = 0
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue = false
    var unsupportedExpectation = false
    var keepAlive = true

    // Body.
    var body: [UInt8] = []
    var remaining = 0  // of a Content-Length body
    var chunked = ChunkedBodyDecoder()

    init() {}

    /// True between requests: nothing of the next request has been seen. (The caller must also
    /// hold no retained bytes for the connection to be idle.)
    var isAtMessageBoundary: Bool {
        if case .head = state { return headersStart < 0 && searchOffset == 0 && emptyLinesSkipped == 0 }
        return false
    }

    /// True while a body is being received.
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunked: return true
        default: return false
        }
    }

    /// The method of the request being received (valid once its request line was parsed; used
    /// to route a request before reading its body for `Expect: 100-continue`).
    var currentMethod: HTTPRequest.Method { method }
    /// The raw path of the request being received (see ``currentMethod``).
    var currentRawPath: Substring { requestTarget.rawPath }
    /// The header fields received so far for the current request.
    var currentHeaderFields: HTTPFields { fields }

    /// Parses from the start of `input` (all bytes not yet consumed) and returns the next event.
    mutating func parse(_ input: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> (event: Event, consumed: Int) {
        var consumed = 0
        while true {
            switch state {
            case .failed(let error):
                return (.error(error), consumed)

            case .head:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                let (outcome, used) = parseHead(rest, limits: limits)
                consumed += used
                switch outcome {
                case .incomplete:
                    return (.needMoreData, consumed)
                case .failed(let reason):
                    return (.error(fail(reason)), consumed)
                case .complete(let expectContinue):
                    if case .head = state {
                        return (.request(finishMessage()), consumed)  // no body
                    }
                    if expectContinue {
                        return (.expectContinue, consumed)
                    }
                }

            case .fixedBody:
                let count = min(remaining, input.count - consumed)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + count)]))
                consumed += count
                remaining -= count
                if remaining == 0 {
                    return (.request(finishMessage()), consumed)
                }
                return (.needMoreData, consumed)

            case .chunked:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                let (outcome, used) = chunked.decode(rest, into: &body, limits: limits)
                consumed += used
                switch outcome {
                case .incomplete:
                    return (.needMoreData, consumed)
                case .failed(let reason):
                    return (.error(fail(reason)), consumed)
                case .complete:
                    return (.request(finishMessage()), consumed)
                }
            }
        }
    }

    private mutating func fail(_ reason: HTTPParseError.Reason) -> HTTPParseError {
        let error = HTTPParseError(reason)
        state = .failed(error)
        body = []
        fields = HTTPFields()
        return error
    }

    private mutating func finishMessage() -> ParsedRequest {
        let request = Request(
            method: method, target: requestTarget.target, rawPath: requestTarget.rawPath, path: requestTarget.path,
            rawQuery: requestTarget.rawQuery, query: requestTarget.query,
            headerFields: fields, body: body, version: version)
        let parsed = ParsedRequest(request: request, keepAlive: keepAlive)
        self = HTTPRequestParser()
        return parsed
    }
}
