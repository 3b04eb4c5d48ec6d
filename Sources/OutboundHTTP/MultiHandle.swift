import CCurl

/// Owns one libcurl multi handle (`CURLM *`): the connection cache, DNS cache and transfer
/// scheduler that ``OutboundHTTPMultiClient``'s driver thread runs every transfer through.
///
/// libcurl allows a multi handle to be used by one thread only, with a single exception:
/// `curl_multi_wakeup` may be called from any thread. The handle is created by the thread that
/// creates the client and handed to the driver thread before that thread starts; from then on
/// every call but ``wakeup()`` is made by the driver thread alone. `@unchecked Sendable`
/// because that hand-over is what the type system cannot see; nothing here locks.
///
/// ``cleanUp()`` and ``wakeup()`` are only called under the client's inbox mutex, which is what
/// keeps a wakeup from reaching a handle that has just been cleaned up.
final class MultiHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    private var isCleanedUp = false

    init?() {
        guard let raw = curl_multi_init() else { return nil }
        self.raw = raw
    }

    deinit {
        cleanUp()
    }

    /// Closes the cached connections and frees the handle; later calls do nothing. The driver
    /// removes every easy handle first, as libcurl asks.
    func cleanUp() {
        guard !isCleanedUp else { return }
        isCleanedUp = true
        curl_multi_cleanup(raw)
    }

    func set(_ option: CURLMoption, _ value: Int) -> CURLMcode {
        ccurl_multi_setopt_long(raw, option, value)
    }

    /// Interrupts a `curl_multi_poll` in progress, or makes the next one return at once.
    /// The one call allowed from any thread (it writes to libcurl's internal socket pair).
    func wakeup() {
        guard !isCleanedUp else { return }
        _ = curl_multi_wakeup(raw)
    }

    /// `curl_multi_strerror` and the number, for messages. (``OutboundHTTPError/curlCode`` holds
    /// `CURLcode`s only, a different numbering, so a `CURLMcode` travels in the text.)
    static func describe(_ code: CURLMcode) -> String {
        "\(String(cString: curl_multi_strerror(code))) (CURLMcode \(code.rawValue))"
    }
}
