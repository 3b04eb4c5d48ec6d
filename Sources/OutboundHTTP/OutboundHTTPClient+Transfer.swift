import CCurl

extension OutboundHTTPClient {
    // MARK: - Validation

    /// Refuses requests libcurl would send wrongly or dangerously, before any I/O.
    func validate(_ request: OutboundRequest) throws(OutboundHTTPError) -> RequestTarget {
        func invalid(_ message: String) -> OutboundHTTPError {
            OutboundHTTPError(kind: .invalidRequest, message: message)
        }
        // RFC 9110 §9.1: the method is a token.
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            throw invalid("invalid HTTP method \"\(request.method)\" — use a method token such as GET or POST")
        }
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw invalid("invalid header name \"\(name)\" — header names are tokens (letters, digits, -)")
            }
            // CR or LF would let a value inject header lines; NUL would truncate it in C.
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw invalid("the value of header \"\(name)\" contains CR, LF or NUL — remove line breaks from header values")
            }
        }
        if let auth = request.basicAuth {
            // RFC 7617 §2: the user-id cannot contain a colon; NUL would truncate the C string.
            guard !auth.username.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == 0 }) else {
                throw invalid("the Basic auth username contains ':' or NUL, which HTTP Basic cannot carry")
            }
            guard !auth.password.utf8.contains(0) else {
                throw invalid("the Basic auth password contains a NUL byte, which cannot be sent")
            }
        }
        guard request.connectTimeout > .zero, request.totalTimeout > .zero else {
            throw invalid("timeouts must be positive (libcurl treats 0 as \"wait forever\")")
        }
        guard request.maxRedirects >= 0 else {
            throw invalid("maxRedirects must not be negative")
        }
        guard !request.url.utf8.contains(0) else {
            throw OutboundHTTPError(kind: .invalidURL, message: "the URL contains a NUL byte")
        }
        return try RequestTarget.parse(request.url)
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    // MARK: - The transfer

    func perform(_ request: OutboundRequest, target: RequestTarget, on handle: EasyHandle) throws(OutboundHTTPError) -> OutboundResponse {
        let sink = ResponseSink(
            maxBodyBytes: configuration.maxResponseBodyBytes,
            maxHeaderBytes: configuration.maxResponseHeaderBytes
        )
        // libcurl hands this pointer back to the C callbacks. The retain keeps the sink alive for
        // the whole transfer; the release below is the only one, and it runs after
        // curl_easy_perform has returned, when no callback can fire any more. checkIn's
        // curl_easy_reset then clears the pointer from the handle before anyone else can use it.
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }  // after perform: libcurl reads the list during it

        let setupCode = configure(handle, for: request, context: context.toOpaque(), headerList: &headerList)
        guard setupCode == CURLE_OK else {
            throw OutboundHTTPError(
                kind: .other,
                message: "libcurl refused an option for \(target.authority): \(String(cString: curl_easy_strerror(setupCode)))",
                curlCode: Int(setupCode.rawValue),
                curlErrorText: handle.errorText
            )
        }

        let code = curl_easy_perform(handle.raw)
        guard code == CURLE_OK else {
            throw OutboundHTTPError(curlCode: code, handle: handle, sink: sink, request: request, target: target, limits: configuration)
        }

        return OutboundResponse(
            status: handle.info(long: CURLINFO_RESPONSE_CODE),
            headers: sink.headers,
            body: sink.body,
            effectiveURL: handle.info(string: CURLINFO_EFFECTIVE_URL),
            remoteAddress: handle.info(string: CURLINFO_PRIMARY_IP),
            remotePort: handle.info(long: CURLINFO_PRIMARY_PORT),
            timings: OutboundTimings(
                nameLookup: handle.info(time: CURLINFO_NAMELOOKUP_TIME_T),
                connect: handle.info(time: CURLINFO_CONNECT_TIME_T),
                tlsHandshake: handle.info(time: CURLINFO_APPCONNECT_TIME_T),
                firstByte: handle.info(time: CURLINFO_STARTTRANSFER_TIME_T),
                total: handle.info(time: CURLINFO_TOTAL_TIME_T)
            ),
            redirectCount: handle.info(long: CURLINFO_REDIRECT_COUNT),
            newConnections: handle.info(long: CURLINFO_NUM_CONNECTS)
        )
    }

    /// Sets every option for one transfer on a freshly reset handle; returns the first failure.
    private func configure(
        _ handle: EasyHandle,
        for request: OutboundRequest,
        context: UnsafeMutableRawPointer,
        headerList: inout UnsafeMutablePointer<curl_slist>?
    ) -> CURLcode {
        var code = CURLE_OK
        func apply(_ result: CURLcode) {
            if code == CURLE_OK { code = result }
        }

        // Threads and timeouts: without NOSIGNAL libcurl uses SIGALRM for DNS timeouts, which
        // is not thread-safe.
        apply(handle.set(CURLOPT_NOSIGNAL, 1))
        apply(ccurl_easy_setopt_pointer(handle.raw, CURLOPT_ERRORBUFFER, handle.errorBuffer))
        apply(handle.set(CURLOPT_URL, request.url))
        apply(handle.set(CURLOPT_PROTOCOLS_STR, "http,https"))
        apply(handle.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        apply(handle.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
        apply(handle.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.totalTimeout)))
        apply(handle.set(CURLOPT_USERAGENT, configuration.userAgent))
        // An empty proxy string disables the proxy environment variables too.
        apply(handle.set(CURLOPT_PROXY, configuration.proxy ?? ""))

        // TLS: verify the chain and that the certificate names the host. Never switched off.
        apply(handle.set(CURLOPT_SSL_VERIFYPEER, 1))
        apply(handle.set(CURLOPT_SSL_VERIFYHOST, 2))
        if let caBundlePath = configuration.caBundlePath {
            apply(handle.set(CURLOPT_CAINFO, caBundlePath))
        }

        if request.maxRedirects > 0 {
            apply(handle.set(CURLOPT_FOLLOWLOCATION, 1))
            apply(handle.set(CURLOPT_MAXREDIRS, request.maxRedirects))
        }
        if request.freshConnection {
            apply(handle.set(CURLOPT_FRESH_CONNECT, 1))
            apply(handle.set(CURLOPT_FORBID_REUSE, 1))
        }

        // A declared Content-Length over the limit fails at once (CURLE_FILESIZE_EXCEEDED);
        // the write callback enforces the limit for bodies without one.
        apply(handle.set(CURLOPT_MAXFILESIZE_LARGE, offset: Int64(configuration.maxResponseBodyBytes)))
        apply(ccurl_easy_setopt_write_function(handle.raw, ResponseSink.writeCallback))
        apply(ccurl_easy_setopt_pointer(handle.raw, CURLOPT_WRITEDATA, context))
        apply(ccurl_easy_setopt_header_function(handle.raw, ResponseSink.headerCallback))
        apply(ccurl_easy_setopt_pointer(handle.raw, CURLOPT_HEADERDATA, context))

        // Method and body.
        let method = request.method
        if method == "HEAD" {
            apply(handle.set(CURLOPT_NOBODY, 1))
        } else if request.body != nil || method == "POST" {
            // POSTFIELDS, never a read callback: libcurl's default read callback reads stdin.
            // COPYPOSTFIELDS copies the bytes (binary-safe, as the size is set first), so the
            // body need not outlive this function.
            let body = request.body ?? []
            apply(handle.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count)))
            if body.isEmpty {
                apply(handle.set(CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                body.withUnsafeBytes { bytes in
                    apply(ccurl_easy_setopt_pointer(handle.raw, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress!)))
                }
            }
            if method != "POST" { apply(handle.set(CURLOPT_CUSTOMREQUEST, method)) }
        } else if method == "GET" {
            apply(handle.set(CURLOPT_HTTPGET, 1))
        } else {
            apply(handle.set(CURLOPT_CUSTOMREQUEST, method))
        }

        if let auth = request.basicAuth {
            apply(ccurl_easy_setopt_httpauth_basic(handle.raw))
            apply(handle.set(CURLOPT_USERNAME, auth.username))
            apply(handle.set(CURLOPT_PASSWORD, auth.password))
        }

        headerList = Self.headerList(for: request)
        if let headerList {
            apply(ccurl_easy_setopt_slist(handle.raw, CURLOPT_HTTPHEADER, headerList))
        }
        return code
    }

    /// The request's header fields in libcurl's `curl_slist` syntax, plus two suppressions:
    /// `Expect:` (libcurl would otherwise add `Expect: 100-continue` to large bodies and wait up
    /// to a second for a server that ignores it, which would distort the latency we report) and,
    /// for bodies, `Content-Type:` (libcurl would otherwise claim `application/x-www-form-urlencoded`).
    static func headerList(for request: OutboundRequest) -> UnsafeMutablePointer<curl_slist>? {
        var lines: [String] = request.headers.map { name, value in
            // "Name:" would remove the field; "Name;" is libcurl's way to send it empty.
            value.isEmpty ? "\(name);" : "\(name): \(value)"
        }
        let names = Set(request.headers.map { $0.0.lowercased() })
        if !names.contains("expect") { lines.append("Expect:") }
        if request.body != nil, !names.contains("content-type") { lines.append("Content-Type:") }

        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let appended = curl_slist_append(list, line) else { continue }  // only on OOM
            list = appended
        }
        return list
    }

    /// libcurl takes milliseconds; round up so a sub-millisecond timeout never becomes 0 (= forever).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int.max }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(product.addingReportingOverflow(fraction).overflow ? Int64.max : product + fraction))
    }
}
