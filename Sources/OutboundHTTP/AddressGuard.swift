import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The connect-time half of ``AddressPolicy`` for one transfer: libcurl's open-socket callback
/// (`CURLOPT_OPENSOCKETFUNCTION`) asks it before every socket it would connect, and a refused
/// address gets no socket at all, so not even a SYN reaches it. libcurl then tries the host's
/// other addresses, or fails with `CURLE_COULDNT_CONNECT`; ``refusal`` tells that failure apart.
/// Reused connections were checked when they were opened.
final class AddressGuard {
    /// The first address refused and why, e.g. "127.0.0.1 (loopback)".
    private(set) var refusal: String?

    /// Sets the callback on `handle`; the guard must outlive the transfer (the Transfer owns it).
    func install(on handle: EasyHandle) -> CURLcode {
        let code = ccurl_easy_setopt_opensocket_function(handle.raw, Self.openSocket)
        guard code == CURLE_OK else { return code }
        return ccurl_easy_setopt_pointer(handle.raw, CURLOPT_OPENSOCKETDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    private static let openSocket: curl_opensocket_callback = { context, _, address in
        guard let context, let address else { return CURL_SOCKET_BAD }
        let guardian = Unmanaged<AddressGuard>.fromOpaque(context).takeUnretainedValue()
        var text = [CChar](repeating: 0, count: 64)
        guard ccurl_sockaddr_text(address, &text, text.count) == 0 else {
            if guardian.refusal == nil { guardian.refusal = "an address of family \(address.pointee.family)" }
            return CURL_SOCKET_BAD
        }
        let numeric = String(cString: text)
        if let reason = AddressPolicy.refusal(numeric) {
            if guardian.refusal == nil { guardian.refusal = "\(numeric) (\(reason))" }
            return CURL_SOCKET_BAD
        }
        return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
    }
}
