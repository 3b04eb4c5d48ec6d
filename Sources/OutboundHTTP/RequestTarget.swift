import CCurl

/// The parts of a request URL the client needs before the transfer: for validation and for
/// error messages that name the target ("could not connect to 127.0.0.1:9").
///
/// Parsed with libcurl's own URL API so that what we validate is exactly what libcurl will use.
struct RequestTarget: Sendable {
    var scheme: String
    var host: String
    var port: Int

    /// `host:port`, with IPv6 hosts bracketed.
    var authority: String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func parse(_ url: String) throws(OutboundHTTPError) -> RequestTarget {
        guard let handle = curl_url() else {
            throw OutboundHTTPError(kind: .other, message: "libcurl could not allocate a URL handle (out of memory?)")
        }
        defer { curl_url_cleanup(handle) }

        let setCode = curl_url_set(handle, CURLUPART_URL, url, 0)
        guard setCode == CURLUE_OK else {
            let reason = String(cString: curl_url_strerror(setCode))
            throw OutboundHTTPError(
                kind: .invalidURL,
                message: "invalid URL \"\(redactingUserinfo(url))\": \(reason) — use an absolute http:// or https:// URL"
            )
        }
        // Credentials in the URL would end up in logs, error messages and the effective URL.
        if part(handle, CURLUPART_USER) != nil || part(handle, CURLUPART_PASSWORD) != nil {
            throw OutboundHTTPError(
                kind: .invalidURL,
                message: "URL \"\(redactingUserinfo(url))\" contains credentials — remove user:password@ from the URL and pass them as basicAuth"
            )
        }
        let scheme = (part(handle, CURLUPART_SCHEME) ?? "").lowercased()
        let host = part(handle, CURLUPART_HOST) ?? ""
        let port = part(handle, CURLUPART_PORT, flags: ccurl_url_flag_default_port()).flatMap { Int($0) } ?? 0
        return RequestTarget(scheme: scheme, host: host, port: port)
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart, flags: UInt32 = 0) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }

    /// `scheme://user:secret@host/…` → `scheme://***@host/…`, for any text that might be shown or logged.
    static func redactingUserinfo(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest: Substring = url[schemeEnd.upperBound...]
        let authorityEnd: String.Index = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(rest[at...])
    }
}
