import HTTPTypes

/// The header section's field lines (RFC 9112 §5, RFC 9110 §5): each line validated, the
/// fields that decide framing and the connection's fate recorded as they arrive.
extension HTTPRequestParser {
    mutating func parseFieldLine(_ line: UnsafeRawBufferPointer, limits: HTTPServer.Limits) -> HTTPParseError.Reason? {
        fieldCount += 1
        if fieldCount > limits.maxHeaderCount { return .tooManyHeaders }
        // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected with 400; this
        // also covers whitespace between the start-line and the first field (§2.2).
        if ASCII.isWhitespace(line[0]) { return .obsFold }
        guard let colon = line.firstIndex(of: ASCII.colon) else { return .invalidFieldLine }
        let nameBytes = UnsafeRawBufferPointer(rebasing: line[..<colon])
        guard !nameBytes.isEmpty else { return .invalidFieldName }
        // RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad
        // Request), any received request message that contains whitespace between a header
        // field name and colon."
        if ASCII.isWhitespace(nameBytes[nameBytes.count - 1]) { return .whitespaceBeforeColon }
        // RFC 9110 §5.1: field-name = token.
        guard nameBytes.allSatisfy(ASCII.isTokenChar) else { return .invalidFieldName }
        // RFC 9112 §5.1: OWS around the value is not part of it.
        let value = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        // RFC 9110 §5.5: field values never contain CR, LF or NUL; other controls are invalid
        // too. Rejecting (rather than replacing) keeps us in agreement with strict proxies.
        var isASCII = true
        for byte in value {
            guard ASCII.isFieldValueChar(byte) else { return .invalidFieldValue }
            if byte >= 0x80 { isASCII = false }
        }

        let name: HTTPField.Name
        let role: KnownFieldNames.Role
        if let known = KnownFieldNames.lookup(nameBytes) {
            (name, role) = known
        } else {
            guard let made = HTTPField.Name(String(decoding: nameBytes, as: UTF8.self)) else { return .invalidFieldName }
            (name, role) = (made, .plain)
        }

        switch role {
        case .plain:
            break
        case .contentLength:
            if let reason = recordContentLength(value) { return reason }
        case .transferEncoding:
            recordTransferEncoding(value)
        case .host:
            // RFC 9112 §3.2: 400 for "more than one Host header field line or a Host header
            // field with an invalid field value".
            hostCount += 1
            if hostCount > 1 { return .duplicateHost }
            guard value.allSatisfy(ASCII.isAuthorityChar) else { return .invalidHost }
        case .connection:
            // RFC 9110 §7.6.1: Connection = #connection-option, case-insensitive tokens.
            Self.forEachListMember(value) { member in
                if ASCII.equalsIgnoringCase(member, "close") { connectionClose = true }
                if ASCII.equalsIgnoringCase(member, "keep-alive") { connectionKeepAlive = true }
            }
        case .expect:
            // RFC 9110 §10.1.1: the only expectation defined is "100-continue" (case-insensitive).
            Self.forEachListMember(value) { member in
                if ASCII.equalsIgnoringCase(member, "100-continue") {
                    expectsContinue = true
                } else {
                    unsupportedExpectation = true
                }
            }
        }
        // ASCII values (nearly all) become Strings directly; obs-text keeps its raw bytes.
        fields.append(isASCII ? HTTPField(name: name, value: String(decoding: value, as: UTF8.self)) : HTTPField(name: name, value: value))
        return nil
    }

    /// RFC 9110 §8.6 / RFC 9112 §6.3 item 5: Content-Length = 1*DIGIT. A list (from combined
    /// lines) is accepted only when every member is the same valid number; signs, spaces inside,
    /// empty members, differing values or a value beyond 2^63 are "invalid Content-Length":
    /// 400 and close, because two parties disagreeing about the length is how requests are
    /// smuggled.
    private mutating func recordContentLength(_ value: UnsafeRawBufferPointer) -> HTTPParseError.Reason? {
        var failure: HTTPParseError.Reason?
        var memberCount = 0
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != ASCII.comma { end += 1 }
            let member = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            memberCount += 1
            guard !member.isEmpty else { return .invalidContentLength }
            var number = 0
            for byte in member {
                guard ASCII.isDigit(byte) else { return .invalidContentLength }
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - 0x30))
                guard !overflow1 && !overflow2 else { return .invalidContentLength }
                number = sum
            }
            if let existing = contentLength, existing != number {
                failure = .conflictingContentLength
                break
            }
            contentLength = number
            start = end + 1
        }
        return failure
    }

    /// RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; codings are case-insensitive
    /// (§7). Lines accumulate; the list is judged when the head is complete.
    private mutating func recordTransferEncoding(_ value: UnsafeRawBufferPointer) {
        var codings = transferCodings ?? []
        Self.forEachListMember(value) { member in
            codings.append(String(decoding: member.map(ASCII.lowercased), as: UTF8.self))
        }
        transferCodings = codings
    }

    /// Calls `body` with each non-empty, trimmed member of a comma-separated list
    /// (RFC 9110 §5.6.1: recipients ignore empty members).
    private static func forEachListMember(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != ASCII.comma { end += 1 }
            let member = ASCII.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<end]))
            if !member.isEmpty { body(member) }
            start = end + 1
        }
    }
}
