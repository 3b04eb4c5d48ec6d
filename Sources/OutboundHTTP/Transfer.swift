import CCurl

/// One request on one easy handle: the options set, the response collected, the outcome read.
///
/// Both clients prepare requests here, so they send exactly the same bytes with the same
/// safeguards: ``OutboundHTTPClient`` runs the transfer with `curl_easy_perform` on the calling
/// thread, ``OutboundHTTPMultiClient`` adds the handle to its multi handle and reads the outcome
/// when `curl_multi_info_read` reports it done.
///
/// libcurl hands the sink's address back to the C callbacks (`CURLOPT_WRITEDATA` /
/// `CURLOPT_HEADERDATA`) for as long as the transfer runs; the transfer owns the sink, the
/// header list and the request, so whoever drives it keeps it alive until libcurl is done with
/// the handle (`curl_easy_perform` has returned, or `curl_multi_remove_handle` has been called),
/// and resets the handle before it is used again. Confined to one thread at a time: no locks.
final class Transfer {
    let handle: EasyHandle
    let request: OutboundRequest
    let target: RequestTarget
    let configuration: OutboundHTTPClient.Configuration
    private let sink: ResponseSink
    /// Read by libcurl during the transfer; freed only when the transfer is released.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// Read by libcurl's open-socket callback during the transfer, when addresses are checked.
    private let addressGuard: AddressGuard?

    /// Sets every option for `request` on `handle`, which must be fresh or reset.
    ///
    /// - Parameter http11Only: pin HTTP/1.1 even where libcurl would negotiate HTTP/2 over TLS.
    /// - Throws: ``OutboundHTTPError`` when libcurl refuses an option.
    init(
        request: OutboundRequest,
        target: RequestTarget,
        handle: EasyHandle,
        configuration: OutboundHTTPClient.Configuration,
        http11Only: Bool = false
    ) throws(OutboundHTTPError) {
        self.handle = handle
        self.request = request
        self.target = target
        self.configuration = configuration
        sink = ResponseSink(
            maxBodyBytes: configuration.maxResponseBodyBytes,
            maxHeaderBytes: configuration.maxResponseHeaderBytes
        )
        addressGuard = request.refusePrivateAddresses ? AddressGuard() : nil
        var setupCode = Self.configure(
            handle, for: request, configuration: configuration, http11Only: http11Only,
            context: Unmanaged.passUnretained(sink).toOpaque(), headerList: &headerList
        )
        if setupCode == CURLE_OK, let addressGuard { setupCode = addressGuard.install(on: handle) }
        guard setupCode == CURLE_OK else {
            throw OutboundHTTPError(
                kind: .other,
                message: "libcurl refused an option for \(target.authority): \(String(cString: curl_easy_strerror(setupCode)))",
                curlCode: Int(setupCode.rawValue),
                curlErrorText: handle.errorText
            )
        }
    }

    deinit {
        curl_slist_free_all(headerList)
    }

    /// The response, or the error `code` stands for, once libcurl has finished the transfer
    /// with that code (read from the handle, so call it before the handle is reset).
    func outcome(_ code: CURLcode) -> Result<OutboundResponse, OutboundHTTPError> {
        if code != CURLE_OK, let refusal = addressGuard?.refusal {
            return .failure(OutboundHTTPError(
                kind: .addressRefused,
                message: "not sent to \(target.authority): it resolves to \(refusal), an address this request may not reach — "
                    + "only public addresses are allowed (the server's --webhook-allow-private-addresses setting allows others)",
                curlCode: Int(code.rawValue), curlErrorText: handle.errorText))
        }
        guard code == CURLE_OK else {
            return .failure(OutboundHTTPError(curlCode: code, handle: handle, sink: sink, request: request, target: target, limits: configuration))
        }
        return .success(OutboundResponse(
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
        ))
    }

    // MARK: - Options

    /// Sets every option for one transfer on a freshly reset handle; returns the first failure.
    private static func configure(
        _ handle: EasyHandle,
        for request: OutboundRequest,
        configuration: OutboundHTTPClient.Configuration,
        http11Only: Bool,
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
        apply(handle.set(CURLOPT_CONNECTTIMEOUT_MS, OutboundHTTPClient.milliseconds(request.connectTimeout)))
        apply(handle.set(CURLOPT_TIMEOUT_MS, OutboundHTTPClient.milliseconds(request.totalTimeout)))
        apply(handle.set(CURLOPT_USERAGENT, configuration.userAgent))
        if http11Only {
            // libcurl built with nghttp2 would otherwise offer h2 over TLS (ALPN).
            apply(handle.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        }
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
}
