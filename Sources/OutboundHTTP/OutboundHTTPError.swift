/// Why an outbound request produced no HTTP response.
///
/// ``kind`` is for code that branches; ``message`` is for people: it names the target and says
/// what to check. ``curlCode`` and ``curlErrorText`` (libcurl's `CURLOPT_ERRORBUFFER`) keep
/// libcurl's own diagnosis for logs and support. Neither ever contains credentials: URLs with
/// `user:password@` are refused before they reach libcurl, and the password is never logged.
public struct OutboundHTTPError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is — the thing to branch on.
    public enum Kind: Sendable, Hashable {
        /// The host name did not resolve (DNS).
        case couldNotResolve
        /// The TCP connection failed: refused, no route, network unreachable.
        case couldNotConnect
        /// The connection (including the TLS handshake for `https`) was not established within
        /// the request's connect timeout.
        case connectTimeout
        /// Connected, but the complete response did not arrive within the total timeout.
        case totalTimeout
        /// The TLS handshake failed for a reason other than the certificate: typically the
        /// server does not speak TLS on that port.
        case tlsHandshake
        /// The server's certificate was rejected (expired, wrong name, untrusted issuer), or the
        /// configured CA bundle could not be read.
        case tlsCertificate
        /// The response body or header section exceeded the client's limit.
        case responseTooLarge
        /// The URL is not a valid absolute URL, or it carries credentials.
        case invalidURL
        /// The URL (or a redirect) uses a scheme other than `http` or `https`.
        case unsupportedScheme
        /// The request itself is malformed: a header with CR/LF, a bad method, a bad timeout.
        case invalidRequest
        /// The connection closed or failed mid-exchange, or the server sent nothing at all.
        case connectionLost
        /// The server's reply is not valid HTTP.
        case invalidResponse
        /// More redirects than the request allows.
        case tooManyRedirects
        /// The transfer was cancelled before a response arrived: by the caller, or because the
        /// client was closed (``OutboundHTTPMultiClient/close()``). Nothing is known about
        /// whether the server received the request.
        case cancelled
        /// The client already holds as many waiting transfers as it may; nothing was sent.
        /// Try again once some have completed.
        case overloaded
        /// Every address the host resolved to is one the request may not reach (loopback,
        /// private, link-local…: ``OutboundRequest/refusePrivateAddresses``); nothing was sent.
        case addressRefused
        /// The request waited in the multi client's queue past its ``OutboundRequest/startDeadline``
        /// and was never started; nothing was sent.
        case notStarted
        /// Anything else libcurl reports; see ``curlCode`` and ``curlErrorText``.
        case other
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The human message: what failed, against which target, and what to check.
    public var message: String
    /// libcurl's `CURLcode`, or `nil` when the request was refused before reaching libcurl.
    public var curlCode: Int?
    /// libcurl's error buffer text (may be empty).
    public var curlErrorText: String

    /// Creates an error; the client builds these from libcurl's result.
    public init(kind: Kind, message: String, curlCode: Int? = nil, curlErrorText: String = "") {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
        self.curlErrorText = curlErrorText
    }

    /// The message, followed by libcurl's code and text when there are any.
    public var description: String {
        guard let curlCode else { return message }
        let detail = curlErrorText.isEmpty ? "" : ": \(curlErrorText)"
        return "\(message) [curl \(curlCode)\(detail)]"
    }
}
