import HTTPTypes

/// Serializes responses (RFC 9112 §4, §6) into an event loop's output buffer, with the bytes
/// that rarely change — status lines, the `Date` line (refreshed once per second), the
/// `Server` line — prepared in advance.
struct ResponseEncoder {
    /// What the `Connection` field must say (RFC 9112 §9.3, §9.6).
    enum ConnectionField {
        /// HTTP/1.1 persistent: nothing to say, beyond the `Keep-Alive` timeout when one is
        /// announced.
        case none
        /// HTTP/1.0 persistent: must be announced.
        case keepAlive
        /// The server closes after this response.
        case close
    }

    /// `HTTP/1.1 100 Continue` (RFC 9110 §15.2.1), sent before reading an expected body.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private let statusLines = StatusLines()
    private(set) var dateLine: [UInt8] = []
    private var dateSecond = -1
    private let serverLine: [UInt8]
    /// What a kept-alive response says about its connection: `Connection: keep-alive` and
    /// `Keep-Alive: timeout=<seconds>`, so pooled clients drop the idle connection before the
    /// server closes it; empty when no timeout is announced.
    private let keepAliveLines: [UInt8]

    /// - Parameter keepAliveTimeout: the seconds announced in `Keep-Alive: timeout=` on
    ///   responses whose connection stays open; nil announces nothing.
    init(serverName: String?, keepAliveTimeout: Int? = nil) {
        if let keepAliveTimeout {
            keepAliveLines = Array("Connection: keep-alive\r\nKeep-Alive: timeout=\(max(0, keepAliveTimeout))\r\n".utf8)
        } else {
            keepAliveLines = []
        }
        if let serverName, !serverName.isEmpty {
            let legal = serverName.utf8.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 }
            serverLine = Array("Server: ".utf8) + legal + [ASCII.cr, ASCII.lf]
        } else {
            serverLine = []
        }
        refreshDate(now: HTTPDate.nowSeconds())
    }

    /// Rebuilds the `Date` line when the second changed.
    mutating func refreshDate(now seconds: Int) {
        guard seconds != dateSecond else { return }
        dateSecond = seconds
        dateLine = Array("Date: \(HTTPDate.format(secondsSince1970: seconds))\r\n".utf8)
    }

    /// Appends the response; returns the number of bytes appended.
    /// - Parameter omitBody: HEAD — headers as for GET, no content (RFC 9110 §9.3.2).
    @discardableResult
    func encode(
        _ response: Response, requestID: String, connection: ConnectionField, omitBody: Bool, into out: inout [UInt8]
    ) -> Int {
        let start = out.count
        let code = response.status.code
        statusLines.append(response.status, to: &out)
        out.append(contentsOf: dateLine)
        out.append(contentsOf: serverLine)
        // RFC 9110 §8.6: no Content-Length in 1xx or 204; for 304 it would describe the
        // unsent representation, so we leave it out. 1xx, 204 and 304 never have content
        // (RFC 9112 §6.3 item 1).
        let hasContent = !(100...199).contains(code) && code != 204 && code != 304
        if hasContent {
            var length = response.body.count
            if omitBody && length == 0, let declared = response.headerFields[.contentLength], let value = Int(declared) {
                length = value  // an explicit HEAD handler describing the GET representation
            }
            out.append(contentsOf: "Content-Length: ".utf8)
            Self.appendDecimal(length, to: &out)
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
        switch connection {
        case .none: out.append(contentsOf: keepAliveLines)
        case .keepAlive:
            if keepAliveLines.isEmpty {
                out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
            } else {
                out.append(contentsOf: keepAliveLines)
            }
        case .close: out.append(contentsOf: "Connection: close\r\n".utf8)
        }
        out.append(contentsOf: "X-Request-Id: ".utf8)
        out.append(contentsOf: requestID.utf8)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        for field in response.headerFields where !isServerOwned(field.name) {
            out.append(contentsOf: field.name.rawName.utf8)
            out.append(ASCII.colon)
            out.append(ASCII.space)
            // HTTPField values are legalized by swift-http-types (no CR, LF or NUL), so a
            // handler cannot split the response.
            field.withUnsafeBytesOfValue { out.append(contentsOf: $0) }
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        if hasContent && !omitBody {
            out.append(contentsOf: response.body)
        }
        return out.count - start
    }

    /// Fields whose value the server decides (framing, connection management, date, id).
    private func isServerOwned(_ name: HTTPField.Name) -> Bool {
        let canonical = name.canonicalName
        switch canonical.utf8.first {
        case UInt8(ascii: "c"): return canonical == "content-length" || canonical == "connection"
        case UInt8(ascii: "t"): return canonical == "transfer-encoding"
        case UInt8(ascii: "d"): return canonical == "date"
        case UInt8(ascii: "x"): return canonical == "x-request-id"
        case UInt8(ascii: "k"): return canonical == "keep-alive"
        case UInt8(ascii: "s"): return !serverLine.isEmpty && canonical == "server"
        default: return false
        }
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(0x30 + value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while remaining > 0 {
                raw[19 - count] = UInt8(0x30 + remaining % 10)
                remaining /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
        }
    }
}
