#if DEBUG || FUZZING
import HTTPTypes
@testable import HTTPServer

/// The request parser's contract, checked on arbitrary bytes. A violation stops the process
/// (`fatalError`), which libFuzzer reports as a crash with the input that caused it.
///
/// - The same bytes give the same events whether they arrive in one piece, byte by byte, or
///   split at arbitrary points (the parser's documented promise, and what keeps a proxy and
///   this server from disagreeing because of packet boundaries).
/// - Each call consumes between 0 and the bytes it was given; the bytes consumed over a whole
///   run never exceed the input; a request or `100-continue` consumes at least one byte.
/// - Asking again without new bytes after `needMoreData` consumes nothing and still needs more.
/// - An error is final: the parser keeps answering it and consumes nothing more.
/// - Framing is self-consistent: the bytes a request consumed, cut out and parsed alone, give
///   that same request and end exactly at a message boundary.
/// - A parsed request is well-formed: a token method, a target of visible ASCII, token field
///   names, values without CR/LF/NUL, exactly one Host in HTTP/1.1, never Content-Length with
///   Transfer-Encoding, a body within the limit and as long as a Content-Length says.
enum ParserInvariants {
    /// Limits small enough for short inputs to reach every limit.
    static let tightLimits = HTTPServer.Limits(
        maxRequestLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 8, maxBodyBytes: 64,
        maxChunkExtensionLength: 16, maxTrailerBytes: 64)

    /// Inputs up to this size are also fed one byte at a time.
    static let bytewiseLimit = 512

    static func check(_ input: [UInt8]) {
        for limits in [HTTPServer.Limits(), tightLimits] {
            var boundaries: [Int] = []
            let whole = feed(input, cuts: [input.count], limits: limits, boundaries: &boundaries)
            checkFraming(input, whole, boundaries, limits: limits)
            var random = SplitMix(seed: fnv1a(input) ^ UInt64(limits.maxBodyBytes))
            for round in 0..<4 {
                let cuts = randomCuts(count: input.count, pieces: 2 + round * 2, using: &random)
                let split = feed(input, cuts: cuts, limits: limits)
                if split != whole {
                    violation("split at \(cuts.dropLast()) gave \(split), one piece gave \(whole)", input)
                }
            }
            if input.count <= bytewiseLimit && input.count > 1 {
                let bytewise = feed(input, cuts: Array(1...input.count), limits: limits)
                if bytewise != whole {
                    violation("byte by byte gave \(bytewise), one piece gave \(whole)", input)
                }
            }
        }
    }

    /// Each request's bytes alone (from the end of the previous request to its own end) parse to
    /// the same events, with nothing left over.
    static func checkFraming(_ input: [UInt8], _ outcomes: [Outcome], _ boundaries: [Int], limits: HTTPServer.Limits) {
        var previous = 0
        var segment: [Outcome] = []
        var requestIndex = 0
        for outcome in outcomes {
            segment.append(outcome)
            guard case .request = outcome else { continue }
            let end = boundaries[requestIndex]
            let alone = Array(input[previous..<end])
            let reparsed = feed(alone, cuts: [alone.count], limits: limits)
            if reparsed != segment {
                violation("request \(requestIndex) (bytes \(previous)..<\(end)) alone gave \(reparsed), in the stream \(segment)", input)
            }
            previous = end
            segment = []
            requestIndex += 1
        }
    }

    static func feed(_ input: [UInt8], cuts: [Int], limits: HTTPServer.Limits) -> [Outcome] {
        var boundaries: [Int] = []
        return feed(input, cuts: cuts, limits: limits, boundaries: &boundaries)
    }

    /// Feeds `input` in pieces ending at `cuts` (ascending, the last one `input.count`), the way
    /// a connection does: unconsumed bytes are presented again with the next piece. Appends to
    /// `boundaries` the offset at which each request ended.
    static func feed(_ input: [UInt8], cuts: [Int], limits: HTTPServer.Limits, boundaries: inout [Int]) -> [Outcome] {
        var parser = HTTPRequestParser()
        var outcomes: [Outcome] = []
        var start = 0  // first byte not consumed
        for end in cuts {
            var calls = 0
            let budget = end - start + 2  // every call but the last consumes a byte
            while true {
                calls += 1
                if calls > budget { violation("no progress after \(calls) calls", input) }
                let available = end - start
                let (event, consumed) = input.withUnsafeBytes {
                    parser.parse(UnsafeRawBufferPointer(rebasing: $0[start..<end]), limits: limits)
                }
                if consumed < 0 || consumed > available {
                    violation("consumed \(consumed) of \(available) bytes", input)
                }
                start += consumed
                switch event {
                case .needMoreData:
                    let (again, consumedAgain) = input.withUnsafeBytes {
                        parser.parse(UnsafeRawBufferPointer(rebasing: $0[start..<end]), limits: limits)
                    }
                    guard case .needMoreData = again, consumedAgain == 0 else {
                        violation("asked again without new bytes: \(again), consumed \(consumedAgain)", input)
                    }
                case .expectContinue:
                    if consumed == 0 { violation("100-continue without consuming the head", input) }
                    outcomes.append(.expectContinue)
                    continue
                case .request(let parsed):
                    if consumed == 0 { violation("a request without consuming a byte", input) }
                    validate(parsed, limits: limits, input)
                    outcomes.append(.request(Summary(parsed)))
                    boundaries.append(start)
                    continue
                case .error(let error):
                    let (again, consumedAgain) = input.withUnsafeBytes {
                        parser.parse(UnsafeRawBufferPointer(rebasing: $0[start..<input.count]), limits: limits)
                    }
                    guard case .error(let repeated) = again, repeated == error, consumedAgain == 0 else {
                        violation("after \(error.reason) the parser answered \(again), consumed \(consumedAgain)", input)
                    }
                    if !(400...599).contains(error.status.code) { violation("error status \(error.status.code)", input) }
                    outcomes.append(.error(error.reason))
                    return outcomes
                }
                break
            }
        }
        if start > input.count { violation("consumed \(start) bytes of \(input.count)", input) }
        if start < input.count || !parser.isAtMessageBoundary {
            outcomes.append(.incomplete)
        }
        return outcomes
    }

    static func validate(_ parsed: ParsedRequest, limits: HTTPServer.Limits, _ input: [UInt8]) {
        let request = parsed.request
        func require(_ condition: Bool, _ what: @autoclosure () -> String) {
            if !condition { violation("parsed request: \(what())", input) }
        }
        require(!request.method.rawValue.isEmpty && request.method.rawValue.utf8.allSatisfy(ASCII.isTokenChar),
                "method \(request.method.rawValue.debugDescription)")
        require(!request.target.isEmpty && request.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F },
                "target \(request.target.debugDescription)")
        require(request.target.utf8.count <= limits.maxRequestLineLength, "target longer than the request line limit")
        require(request.path.hasPrefix("/") || request.target == "*", "path \(request.path.debugDescription)")
        require(!request.path.utf8.contains(0), "NUL in the decoded path")
        require(request.version == .http1_0 || request.version == .http1_1, "version \(request.version)")
        require(request.body.count <= limits.maxBodyBytes, "body of \(request.body.count) bytes")
        require(request.headerFields.count <= limits.maxHeaderCount, "\(request.headerFields.count) fields")
        var hosts = 0
        var contentLength: [String] = []
        var transferEncoding = false
        var connectionClose = false
        for field in request.headerFields {
            require(!field.name.rawName.isEmpty && field.name.rawName.utf8.allSatisfy(ASCII.isTokenChar),
                    "field name \(field.name.rawName.debugDescription)")
            require(!field.value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }, "CR, LF or NUL in a field value")
            switch field.name.canonicalName {
            case "host": hosts += 1
            case "content-length": contentLength.append(field.value)
            case "transfer-encoding": transferEncoding = true
            case "connection":
                for member in field.value.split(separator: ",", omittingEmptySubsequences: false)
                where trimmed(member).lowercased() == "close" {
                    connectionClose = true
                }
            default: break
            }
        }
        require(request.version == .http1_0 ? hosts <= 1 : hosts == 1, "\(hosts) Host fields")
        require(contentLength.isEmpty || !transferEncoding, "Content-Length with Transfer-Encoding")
        if let value = contentLength.first, !transferEncoding {
            let first = trimmed(value.split(separator: ",", omittingEmptySubsequences: false).first ?? "")
            require(Int(first) == request.body.count, "body of \(request.body.count) bytes, Content-Length \(value)")
        }
        if transferEncoding { require(request.version == .http1_1, "Transfer-Encoding in HTTP/1.0") }
        if connectionClose { require(!parsed.keepAlive, "keep-alive despite Connection: close") }
    }

    /// Without leading and trailing SP / HTAB (OWS, RFC 9110 §5.6.3).
    static func trimmed(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }

    /// A parse event in comparable form.
    enum Outcome: Equatable, CustomStringConvertible {
        case request(Summary)
        case expectContinue
        case error(HTTPParseError.Reason)
        case incomplete

        var description: String {
            switch self {
            case .request(let summary): return "request(\(summary.method) \(summary.target.debugDescription), body \(summary.body.count))"
            case .expectContinue: return "expectContinue"
            case .error(let reason): return "error(\(reason))"
            case .incomplete: return "incomplete"
            }
        }
    }

    struct Summary: Equatable {
        var method: String
        var target: String
        var path: String
        var rawPath: String
        var rawQuery: String?
        var query: [QueryParameters.Item]
        var fields: [HTTPField]
        var body: [UInt8]
        var version: HTTPVersion
        var keepAlive: Bool

        init(_ parsed: ParsedRequest) {
            let request = parsed.request
            method = request.method.rawValue
            target = request.target
            path = request.path
            rawPath = String(request.rawPath)
            rawQuery = request.rawQuery
            query = request.query.items
            fields = Array(request.headerFields)
            body = request.body
            version = request.version
            keepAlive = parsed.keepAlive
        }
    }

    static func violation(_ message: String, _ input: [UInt8]) -> Never {
        let shown = String(decoding: input.prefix(512), as: UTF8.self).debugDescription
        fatalError("request parser invariant: \(message)\ninput (\(input.count) bytes): \(shown)")
    }

    /// `pieces` piece ends in 1..<count, ascending and distinct, then `count`.
    static func randomCuts(count: Int, pieces: Int, using random: inout SplitMix) -> [Int] {
        guard count > 1 else { return [count] }
        var cuts = Set<Int>()
        for _ in 1..<pieces { cuts.insert(1 + Int(random.next() % UInt64(count - 1))) }
        return cuts.sorted() + [count]
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}

/// A small deterministic generator, so that a crashing input reproduces with the same splits.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
#endif
