import CCurl

/// Owns one libcurl easy handle (`CURL *`) and its error buffer.
///
/// A handle keeps its connection cache, DNS cache and TLS session cache between transfers, which
/// is what makes reuse worthwhile. libcurl forbids using one handle from two threads at once;
/// ``OutboundHTTPClient`` guarantees that by lending each handle to exactly one `send` at a time
/// (it is removed from the idle list under a mutex and only put back when the transfer is over).
///
/// `@unchecked Sendable` because the handle moves between threads whole — idle list, then one
/// worker thread, then back — and is never shared; nothing here locks, nothing needs to.
/// (Region-based `sending` cannot yet express "lent out of a Mutex-guarded array and returned".)
final class EasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    /// libcurl writes a NUL-terminated diagnosis here when a transfer fails (`CURLOPT_ERRORBUFFER`).
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        // Closes the handle's cached connections too.
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Back to default options before the next request, so nothing (credentials, method, body,
    /// callbacks with their now-released context pointer) carries over. Keeps the caches.
    func reset() {
        curl_easy_reset(raw)
        errorBuffer[0] = 0
    }

    var errorText: String {
        errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        var text = String(cString: errorBuffer)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }

    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        ccurl_easy_setopt_long(raw, option, value)
    }

    func set(_ option: CURLoption, _ value: String) -> CURLcode {
        // libcurl copies string options (except POSTFIELDS, which we never use), so the C
        // string only has to live for the duration of the call.
        value.withCString { ccurl_easy_setopt_string(raw, option, $0) }
    }

    func set(_ option: CURLoption, offset value: Int64) -> CURLcode {
        ccurl_easy_setopt_offset(raw, option, curl_off_t(value))
    }

    func info(long which: CURLINFO) -> Int {
        var value = 0
        return ccurl_easy_getinfo_long(raw, which, &value) == CURLE_OK ? value : 0
    }

    func info(offset which: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        return ccurl_easy_getinfo_offset(raw, which, &value) == CURLE_OK ? Int64(value) : 0
    }

    func info(string which: CURLINFO) -> String {
        var value: UnsafePointer<CChar>?
        guard ccurl_easy_getinfo_string(raw, which, &value) == CURLE_OK, let value else { return "" }
        return String(cString: value)
    }

    /// A `CURLINFO_*_TIME_T` value (microseconds) as a `Duration`.
    func info(time which: CURLINFO) -> Duration {
        .microseconds(info(offset: which))
    }
}
