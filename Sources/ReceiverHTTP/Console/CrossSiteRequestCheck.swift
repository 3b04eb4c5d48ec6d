import HTTPServer
import HTTPTypes
import ReceiverCore

/// Keeps other sites from making the admin's browser change anything with the
/// console's session cookie (cross-site request forgery).
///
/// Three locks, each enough against today's browsers, together so that one
/// browser's gap or one mistake here does not open the door:
///
/// 1. The cookie is `SameSite=Strict` (``ConsoleSessionCookie``): a request that
///    another site starts carries no cookie at all.
/// 2. A cookie-authenticated write (any method but GET/HEAD), and the sign-in
///    itself, must come from a page of this server: `Sec-Fetch-Site:
///    same-origin`, or where a browser sends no fetch metadata, an `Origin` whose
///    host and port are the request's `Host`. A write with neither is refused:
///    every browser sends `Origin` on a write, and scripts use the bearer token.
/// 3. It must carry the session's CSRF token in `X-CSRF-Token`. The console
///    reads it from the sign-in answer (or `GET /admin/v1/session`); another
///    site can neither read those answers (no CORS) nor compute the token (it is
///    derived from the cookie's value, see ``AdminSessions``). A custom header
///    also makes any cross-origin attempt a CORS preflight, which is never granted.
enum CrossSiteRequestCheck {
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let origin = HTTPField.Name("Origin")!
    static let host = HTTPField.Name("Host")!

    /// Lock 2: the request comes from a page this server served.
    static func requireSameOrigin(_ request: Request) throws(Problem) {
        if let site = request.headerFields.value(of: fetchSite) {
            guard site.lowercased() == "same-origin" else {
                throw refused("This request came from another site (Sec-Fetch-Site: \(site)); the console's changes are made from the console only.")
            }
            return
        }
        guard let origin = request.headerFields.value(of: origin) else {
            throw refused("A change made with the console's session must come from the console (no Origin); scripts send the admin token as Authorization: Bearer.")
        }
        guard let host = request.headerFields.value(of: host), let authority = authority(ofOrigin: origin),
              isSameHost(origin: authority, host: host.lowercased())
        else {
            throw refused("This request came from another site (Origin: \(origin)); the console's changes are made from the console only.")
        }
    }

    /// The `Origin`'s authority against `Host`. A proxy that passes on `Host`
    /// without the port (nginx's `$host`) leaves only the host name to compare.
    static func isSameHost(origin authority: String, host: String) -> Bool {
        if authority == host { return true }
        // IPv6 literals are bracketed: the port follows "]:"; otherwise the only ":".
        let hostHasPort = host.hasPrefix("[") ? host.contains("]:") : host.contains(":")
        guard !hostHasPort else { return false }
        let originHost = authority.hasPrefix("[")
            ? authority.firstIndex(of: "]").map { String(authority[...$0]) } ?? authority
            : String(authority.prefix { $0 != ":" })
        return originHost == host
    }

    /// Locks 2 and 3, for a write made with the session of `sessionToken`.
    static func requireConsoleWrite(_ request: Request, sessionToken: String) throws(Problem) {
        try requireSameOrigin(request)
        guard let presented = request.headerFields.value(of: csrfHeader),
              AdminSessions.csrfTokenMatches(presented, sessionToken: sessionToken)
        else {
            throw refused("A change made with the console's session must carry its CSRF token in X-CSRF-Token (from the sign-in or GET /admin/v1/session).")
        }
    }

    /// `https://admin.example.com:8443` → `admin.example.com:8443`; nil for
    /// `null` or anything without a scheme.
    static func authority(ofOrigin origin: String) -> String? {
        guard let separator = origin.range(of: "://") else { return nil }
        let authority = origin[separator.upperBound...]
        guard !authority.isEmpty, !authority.contains("/") else { return nil }
        return authority.lowercased()
    }

    static func refused(_ detail: String) -> Problem {
        Problem(.forbidden, type: "cross-site-request", title: "Cross-site request refused", detail: detail)
    }
}
