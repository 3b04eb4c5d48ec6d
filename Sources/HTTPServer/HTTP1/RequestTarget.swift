import HTTPTypes

/// A request-target as parsed from the request line (RFC 9112 §3.2): the target as received,
/// its raw and percent-decoded path, and its raw and decoded query.
///
/// Parsing is one pass over the bytes with nothing retained between calls: the request line
/// is complete before the target is parsed.
struct RequestTarget {
    /// The request-target exactly as received.
    var target = ""
    /// The path before percent-decoding (a slice of `target`; "/" for an absolute-form
    /// target without a path).
    var rawPath: Substring = ""
    /// The percent-decoded path.
    var path = ""
    /// The query after "?", still percent-encoded.
    var rawQuery: String?
    /// The decoded query parameters.
    var query = QueryParameters()

    init() {}

    /// RFC 9112 §3.2: origin-form (`/path?query`), absolute-form (`http://host/path`, which a
    /// server MUST accept, §3.2.2) and asterisk-form (`*`, OPTIONS only, §3.2.4). Authority-form
    /// is only for CONNECT, which this server does not implement, so it is rejected as invalid.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, method: HTTPRequest.Method) -> HTTPParseError.Reason? {
        guard !bytes.isEmpty else { return .invalidTarget }
        var pathStart = 0
        if bytes[0] == ASCII.slash {
            pathStart = 0
        } else if bytes.count == 1 && bytes[0] == 0x2A {
            guard method == .options else { return .invalidTarget }
            target = "*"
            rawPath = target[...]
            path = target
            return nil
        } else {
            // absolute-form: "http://" or "https://" (scheme case-insensitive, RFC 3986 §3.1),
            // then an authority up to the path. Its host replaces Host (RFC 9112 §3.2.2).
            let schemeLength: Int
            if bytes.count >= 7, ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<7]), "http://") {
                schemeLength = 7
            } else if bytes.count >= 8, ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<8]), "https://") {
                schemeLength = 8
            } else {
                return .invalidTarget
            }
            var index = schemeLength
            while index < bytes.count && bytes[index] != ASCII.slash && bytes[index] != ASCII.question {
                // RFC 9110 §4.2.4: userinfo ("@") is invalid in http(s) URIs.
                guard ASCII.isAuthorityChar(bytes[index]) else { return .invalidTarget }
                index += 1
            }
            guard index > schemeLength else { return .invalidTarget }  // empty host: RFC 9110 §4.2.1
            pathStart = index
        }

        var queryStart = bytes.count  // index of "?" or end
        var pathHasEscape = false
        var index = pathStart
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.question {
                queryStart = index
                break
            }
            if byte == ASCII.percent {
                guard index + 2 < bytes.count, ASCII.hexValue(bytes[index + 1]) != nil,
                      ASCII.hexValue(bytes[index + 2]) != nil
                else { return .invalidPercentEncoding }
                pathHasEscape = true
                index += 3
                continue
            }
            guard ASCII.isPathChar(byte) else { return .invalidTarget }
            index += 1
        }
        index = queryStart + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count, ASCII.hexValue(bytes[index + 1]) != nil,
                      ASCII.hexValue(bytes[index + 2]) != nil
                else { return .invalidPercentEncoding }
                index += 3
                continue
            }
            // "#" (a fragment) is never sent in a request-target (RFC 9112 §3.2).
            guard ASCII.isQueryChar(byte) else { return .invalidTarget }
            index += 1
        }

        // All bytes are ASCII now, so UTF-8 offsets equal character offsets.
        target = String(decoding: bytes, as: UTF8.self)
        if pathStart == 0 && queryStart == bytes.count {
            rawPath = target[...]  // the common case: the whole target is the path
        } else if pathStart == queryStart {
            rawPath = "/"
        } else {
            let utf8 = target.utf8
            let lower = utf8.index(utf8.startIndex, offsetBy: pathStart)
            let upper = utf8.index(lower, offsetBy: queryStart - pathStart)
            rawPath = target[lower..<upper]
        }
        if !pathHasEscape {
            path = pathStart == 0 && queryStart == bytes.count ? target : (rawPath.isEmpty ? "/" : String(rawPath))
        } else {
            switch PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: bytes[pathStart..<queryStart])) {
            case .success(let decoded): path = decoded.isEmpty ? "/" : decoded
            case .failure(let failure): return Self.reason(for: failure)
            }
        }
        if queryStart < bytes.count {
            let queryBytes = UnsafeRawBufferPointer(rebasing: bytes[(queryStart + 1)...])
            rawQuery = String(decoding: queryBytes, as: UTF8.self)
            switch PercentDecoding.parseQuery(queryBytes) {
            case .success(let parameters): query = parameters
            case .failure(let failure): return Self.reason(for: failure)
            }
        }
        return nil
    }

    private static func reason(for failure: PercentDecoding.Failure) -> HTTPParseError.Reason {
        switch failure {
        case .invalidEscape: return .invalidPercentEncoding
        case .encodedNUL: return .encodedNUL
        case .invalidUTF8: return .invalidUTF8
        }
    }
}
