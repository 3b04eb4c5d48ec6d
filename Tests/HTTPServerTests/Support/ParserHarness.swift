import HTTPTypes
@testable import HTTPServer

/// What the parser produced, in a comparable form.
enum ParseOutcome: Equatable, CustomStringConvertible {
    case request(ParsedSummary)
    case expectContinue
    case error(HTTPParseError.Reason, status: Int)
    /// Input ended inside a request.
    case incomplete

    var description: String {
        switch self {
        case .request(let summary): return "request(\(summary))"
        case .expectContinue: return "expectContinue"
        case .error(let reason, let status): return "error(\(reason), \(status))"
        case .incomplete: return "incomplete"
        }
    }
}

struct ParsedSummary: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var path: String
    var rawPath: String
    var rawQuery: String?
    var query: [QueryParameters.Item]
    var headers: [String]  // "Name: value"
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
        headers = request.headerFields.map { "\($0.name.rawName): \($0.value)" }
        body = request.body
        version = request.version
        keepAlive = parsed.keepAlive
    }

    var description: String {
        "\(method) \(target) path=\(path) query=\(query.map { "\($0.name)=\($0.value)" }) headers=\(headers) "
            + "body=\(String(decoding: body, as: UTF8.self).debugDescription) \(version) keepAlive=\(keepAlive)"
    }
}

/// Feeds the parser the way a connection does: bytes arrive in pieces, unconsumed bytes are
/// retained and presented again with the next piece.
enum ParserHarness {
    static func run(_ pieces: [[UInt8]], limits: HTTPServer.Limits = HTTPServer.Limits()) -> [ParseOutcome] {
        var parser = HTTPRequestParser()
        var retained: [UInt8] = []
        var outcomes: [ParseOutcome] = []
        for piece in pieces {
            retained.append(contentsOf: piece)
            feeding: while true {
                let (event, consumed) = retained.withUnsafeBytes { parser.parse($0, limits: limits) }
                retained.removeFirst(consumed)
                switch event {
                case .needMoreData:
                    break feeding
                case .expectContinue:
                    outcomes.append(.expectContinue)
                case .request(let parsed):
                    outcomes.append(.request(ParsedSummary(parsed)))
                case .error(let error):
                    outcomes.append(.error(error.reason, status: error.status.code))
                    return outcomes
                }
            }
        }
        if !retained.isEmpty || !parser.isAtMessageBoundary {
            outcomes.append(.incomplete)
        }
        return outcomes
    }

    /// The outcome of the whole input in one piece, after checking that every two-piece split
    /// and the one-byte-at-a-time feed give exactly the same outcome.
    static func parseEverySplit(
        _ input: [UInt8], limits: HTTPServer.Limits = HTTPServer.Limits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ParseOutcome] {
        let whole = run([input], limits: limits)
        for split in 1..<max(1, input.count) {
            let outcome = run([Array(input[..<split]), Array(input[split...])], limits: limits)
            if outcome != whole {
                Issue.record("split at \(split) gave \(outcome), whole input gave \(whole)", sourceLocation: sourceLocation)
                return whole
            }
        }
        let bytewise = run(input.map { [$0] }, limits: limits)
        if bytewise != whole {
            Issue.record("byte-at-a-time gave \(bytewise), whole input gave \(whole)", sourceLocation: sourceLocation)
        }
        return whole
    }

    static func parseEverySplit(
        _ input: String, limits: HTTPServer.Limits = HTTPServer.Limits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ParseOutcome] {
        parseEverySplit(Array(input.utf8), limits: limits, sourceLocation: sourceLocation)
    }
}

import Testing
