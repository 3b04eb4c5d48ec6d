import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OutboundHTTPError {
    /// Classifies a failed `curl_easy_perform` and writes the message a person needs.
    init(
        curlCode code: CURLcode,
        handle: EasyHandle,
        sink: ResponseSink,
        request: OutboundRequest,
        target: RequestTarget,
        limits: OutboundHTTPClient.Configuration
    ) {
        let curlText = handle.errorText.isEmpty ? String(cString: curl_easy_strerror(code)) : handle.errorText
        let at = target.authority
        let kind: Kind
        let message: String

        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL:
            // libcurl uses this code both for a scheme outside CURLOPT_PROTOCOLS_STR (first URL or
            // a redirect) and for an HTTP/0.9 reply; the URL it stopped at tells them apart.
            let stoppedAt = handle.info(string: CURLINFO_EFFECTIVE_URL)
            let stoppedScheme = stoppedAt.prefix { $0 != ":" }.lowercased()
            if stoppedScheme == "http" || stoppedScheme == "https" {
                kind = .invalidResponse
                message = "\(at) did not answer with valid HTTP: \(curlText) — is an HTTP server listening on that port?"
            } else if handle.info(long: CURLINFO_REDIRECT_COUNT) > 0 {
                kind = .unsupportedScheme
                message = "\(at) redirected to \(RequestTarget.redactingUserinfo(stoppedAt)), which is not http:// or https:// — only http:// and https:// URLs are allowed, for redirects too"
            } else {
                kind = .unsupportedScheme
                message = "unsupported scheme \"\(target.scheme)\" in \(RequestTarget.redactingUserinfo(request.url)) — only http:// and https:// URLs are allowed"
            }

        case CURLE_URL_MALFORMAT:
            kind = .invalidURL
            message = "invalid URL \"\(RequestTarget.redactingUserinfo(request.url))\": \(curlText) — use an absolute http:// or https:// URL"

        case CURLE_COULDNT_RESOLVE_HOST:
            kind = .couldNotResolve
            message = "could not resolve host \"\(target.host)\" — is the host name spelled correctly, and does it resolve in DNS from this server?"

        case CURLE_COULDNT_RESOLVE_PROXY:
            kind = .couldNotResolve
            message = "could not resolve the proxy host in \"\(limits.proxy ?? "")\" — check the proxy setting"

        case CURLE_COULDNT_CONNECT:
            kind = .couldNotConnect
            let reason = Self.describeErrno(handle.info(long: CURLINFO_OS_ERRNO)) ?? "connection failed"
            message = "could not connect to \(at): \(reason) — is the receiver running and reachable at that address?"

        case CURLE_OPERATION_TIMEDOUT:
            // PRETRANSFER is stamped once the connection (and TLS) is up and the request is about
            // to go out — for new and reused connections alike — so zero means we never connected.
            let limit = min(request.connectTimeout, request.totalTimeout)
            if handle.info(offset: CURLINFO_PRETRANSFER_TIME_T) == 0 {
                kind = .connectTimeout
                // libcurl 7.88 stamps CONNECT_TIME only once TLS is up too; NUM_CONNECTS already
                // counts a TCP connection whose TLS handshake is still pending.
                if target.scheme == "https", handle.info(long: CURLINFO_NUM_CONNECTS) > 0 {
                    message = "connected to \(at) but the TLS handshake did not finish within \(Self.describe(limit)) — does the server speak HTTPS on port \(target.port) (perhaps the URL should be http://)?"
                } else {
                    message = "could not connect to \(at) within \(Self.describe(limit)) — is a firewall dropping packets, or is the address wrong?"
                }
            } else {
                kind = .totalTimeout
                message = "connected to \(at) but no complete response within \(Self.describe(request.totalTimeout)) — is the server overloaded or stuck, or is the timeout too short?"
            }

        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            kind = .tlsCertificate
            message = "the TLS certificate of \(at) was rejected: \(curlText) — does the certificate cover \"\(target.host)\", is it current, and does it chain to a trusted CA?"

        case CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE:
            kind = .tlsCertificate
            message = "could not load the CA certificates (\(limits.caBundlePath ?? "system store")): \(curlText) — check the CA bundle path and that it is readable PEM"

        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CLIENTCERT,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED:
            kind = .tlsHandshake
            message = "the TLS handshake with \(at) failed: \(curlText) — does the server speak HTTPS on port \(target.port) (perhaps the URL should be http://), and does it support TLS 1.2 or later?"

        case CURLE_FILESIZE_EXCEEDED:
            kind = .responseTooLarge
            message = "the response body from \(at) is larger than the \(limits.maxResponseBodyBytes)-byte limit"

        case CURLE_WRITE_ERROR where sink.overflow == .body:
            kind = .responseTooLarge
            message = "the response body from \(at) is larger than the \(limits.maxResponseBodyBytes)-byte limit"

        case CURLE_WRITE_ERROR where sink.overflow == .headers:
            kind = .responseTooLarge
            message = "the response headers from \(at) are larger than the \(limits.maxResponseHeaderBytes)-byte limit"

        case CURLE_TOO_MANY_REDIRECTS:
            kind = .tooManyRedirects
            message = "more than \(request.maxRedirects) redirects starting at \(at) — is there a redirect loop?"

        case CURLE_GOT_NOTHING:
            kind = .connectionLost
            message = "\(at) closed the connection without sending a response — is something other than an HTTP server on that port, or is a proxy refusing the request?"

        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE:
            kind = .connectionLost
            message = "the connection to \(at) broke mid-exchange: \(curlText) — retry; if it persists, check the server's logs and any proxy in between"

        case CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING:
            kind = .invalidResponse
            message = "\(at) did not answer with valid HTTP: \(curlText) — is an HTTP server listening on that port?"

        default:
            kind = .other
            message = "request to \(at) failed: \(curlText)"
        }

        self.init(kind: kind, message: message, curlCode: Int(code.rawValue), curlErrorText: handle.errorText)
    }

    /// `ECONNREFUSED` → "connection refused".
    static func describeErrno(_ number: Int) -> String? {
        guard number != 0, let text = strerror(Int32(number)) else { return nil }
        return String(cString: text).lowercased()
    }

    /// `300 ms`, `5 s`, `1.5 s`.
    static func describe(_ duration: Duration) -> String {
        let milliseconds = OutboundHTTPClient.milliseconds(duration)
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }
}
