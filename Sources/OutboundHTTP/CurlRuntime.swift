import CCurl

/// libcurl's process-wide state.
///
/// `curl_global_init` must run exactly once before any other libcurl call, and must not race
/// with itself. A `static let` is initialised lazily under `swift_once`, which gives exactly
/// that: the first ``OutboundHTTPClient`` triggers it, every later one (on any thread) waits for
/// and reuses the result. We never call `curl_global_cleanup`: handles may live until exit, and
/// the process ends anyway.
enum CurlRuntime {
    /// The `CURLcode` of `curl_global_init(CURL_GLOBAL_DEFAULT)`.
    static let initResult: Int = Int(ccurl_global_init_default().rawValue)

    static var isInitialized: Bool { initResult == Int(CURLE_OK.rawValue) }
}
