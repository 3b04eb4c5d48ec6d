import HTTPServer
import HTTPTypes
import ReceiverCore

/// The console's session cookie (RFC 6265): the session token, which only the
/// browser and the hash in `admin_sessions` know.
///
/// - `HttpOnly`: no script reads it, so an injected script cannot carry it away.
/// - `SameSite=Strict`: the browser sends it only with requests that a page of
///   this site makes, never with one a link or form on another site starts.
/// - `Path=/admin`: the console's pages and `/admin/v1`, nothing else.
/// - `Secure` when the request came over HTTPS (`X-Forwarded-Proto: https` from
///   the TLS terminator in front; the server itself speaks plain HTTP), so a
///   console reached over HTTPS never sends it in clear.
/// - `Max-Age` of the session's lifetime: it ends with the session.
enum ConsoleSessionCookie {
    static let name = "connector_receiver_console"
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// The session token the request's `Cookie` field carries, if any.
    static func token(in request: Request) -> String? {
        for field in request.headerFields where field.name == .cookie {
            for pair in field.value.split(separator: ";") {
                let trimmed = String(pair).trimmingOptionalWhitespace()
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                let value = trimmed[trimmed.index(after: equals)...]
                if !value.isEmpty { return String(value) }
            }
        }
        return nil
    }

    /// `Set-Cookie` for a new session of `maxAge` seconds.
    static func setting(_ token: String, maxAge: Int, for request: Request) -> HTTPField {
        HTTPField(name: .setCookie, value: "\(name)=\(token); \(attributes(for: request)); Max-Age=\(maxAge)")
    }

    /// `Set-Cookie` that makes the browser drop the cookie (signed out, expired).
    static func clearing(for request: Request) -> HTTPField {
        HTTPField(name: .setCookie, value: "\(name)=; \(attributes(for: request)); Max-Age=0")
    }

    static func cameOverHTTPS(_ request: Request) -> Bool {
        guard let proto = request.headerFields.value(of: forwardedProto) else { return false }
        // A chain of proxies lists one value each; the first is what the browser used.
        return proto.split(separator: ",").first.map { String($0).trimmingOptionalWhitespace().lowercased() == "https" } ?? false
    }

    private static func attributes(for request: Request) -> String {
        "Path=/admin; HttpOnly; SameSite=Strict" + (cameOverHTTPS(request) ? "; Secure" : "")
    }
}
