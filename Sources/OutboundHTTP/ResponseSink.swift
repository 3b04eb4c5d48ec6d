/// Collects what libcurl's write and header callbacks deliver during one `curl_easy_perform`.
///
/// The callbacks are C function pointers and cannot capture anything; they find their sink
/// through the `void *` context libcurl passes back (`CURLOPT_WRITEDATA` / `CURLOPT_HEADERDATA`).
/// The sink is confined to the thread running the transfer, which is why it needs no locking.
final class ResponseSink {
    enum Overflow { case body, headers }

    let maxBodyBytes: Int
    let maxHeaderBytes: Int

    private(set) var body: [UInt8] = []
    /// The header fields of the latest header block only.
    private(set) var headers: [(name: String, value: String)] = []
    private var headerBytesInBlock = 0
    /// Set when a limit made a callback abort the transfer (libcurl then reports CURLE_WRITE_ERROR).
    private(set) var overflow: Overflow?

    init(maxBodyBytes: Int, maxHeaderBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Appends body bytes; returns `false` (abort) when the body would exceed the limit.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= maxBodyBytes - body.count else {
            overflow = .body
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Takes one complete header line as libcurl delivers it (status line, field line, or the
    /// empty line ending a block, each with its CRLF). Returns `false` to abort the transfer.
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Each response — an interim 100 Continue, a followed redirect, the final one — starts
        // with its status line; only the last block describes the response we return.
        if bytes.starts(with: "HTTP/".utf8) {
            headers.removeAll(keepingCapacity: true)
            headerBytesInBlock = 0
        }
        headerBytesInBlock += bytes.count
        guard headerBytesInBlock <= maxHeaderBytes else {
            overflow = .headers
            return false
        }

        var line = Substring(decoding: bytes, as: UTF8.self)
        while let last = line.last, last == "\r\n" || last == "\n" || last == "\r" { line.removeLast() }
        if line.isEmpty || line.hasPrefix("HTTP/") { return true }

        if line.first == " " || line.first == "\t" {
            // RFC 9112 §5.2: obsolete line folding; replace it with a space and keep the field.
            if !headers.isEmpty {
                headers[headers.count - 1].value += " " + trimmingWhitespace(line)
            }
            return true
        }
        guard let colon = line.firstIndex(of: ":") else { return true }  // not a field line; ignore
        let name = String(line[..<colon])
        let value = trimmingWhitespace(line[line.index(after: colon)...])
        headers.append((name: name, value: value))
        return true
    }

    private func trimmingWhitespace(_ text: Substring) -> String {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = text.firstIndex(where: { !isWhitespace($0) }),
              let end = text.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(text[start...end])
    }
}

extension ResponseSink {
    /// `CURLOPT_WRITEFUNCTION`. Returning anything but `size * count` makes libcurl abort.
    static let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, context in
        let length = size * count
        guard let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        guard length > 0, let data else { return length }
        return sink.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    /// `CURLOPT_HEADERFUNCTION`: called once per complete header line.
    static let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, context in
        let length = size * count
        guard let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        guard length > 0, let data else { return length }
        return sink.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }
}
