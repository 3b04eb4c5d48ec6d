import HTTPServer
import HTTPTypes
import Logging
import Postgres
import ReceiverCore

/// The admin console: its pages at `/admin/`, and the session API it signs in
/// with (`/admin/v1/session`). Registered only while the admin API is on;
/// otherwise `/admin/` is a 404 like every `/admin/v1` path.
struct ConsoleRoutes {
    let database: PostgresConnectionPool
    let authenticator: AdminAuthenticator
    /// nil: no console files were found; the session API still works.
    let assets: ConsoleAssets?

    func register(in router: inout Router) {
        if let assets { registerPages(assets, in: &router) }
        registerSession(in: &router)
    }

    // MARK: - Pages

    /// Served with a policy that lets the page run only this server's own files
    /// and talk only to this server: no inline script or style, no framing.
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (HTTPField.Name("Content-Security-Policy")!,
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("Cross-Origin-Opener-Policy")!, "same-origin"),
        // Small files that change with each release: revalidated, never stale.
        (.cacheControl, "no-cache"),
    ]

    private func registerPages(_ assets: ConsoleAssets, in router: inout Router) {
        router.get("/admin", options: .inline) { _, _ in
            var response = Response(status: .permanentRedirect)
            response.headerFields[.location] = "/admin/"
            return response
        }
        router.get("/admin/", options: .inline) { _, _ in Self.page(assets.files["index.html"]!) }
        router.get("/admin/{asset}", options: .inline) { _, context in
            guard let asset = assets.files[try context.parameters.require("asset")] else {
                throw Problem(.notFound, type: "not-found", title: "Not Found", detail: "The console has no such file.")
            }
            return Self.page(asset)
        }
    }

    static func page(_ asset: ConsoleAssets.Asset) -> Response {
        var response = Response(status: .ok, body: asset.body)
        response.headerFields[.contentType] = asset.contentType
        for (name, value) in securityHeaders { response.headerFields[name] = value }
        return response
    }

    // MARK: - Session

    private func registerSession(in router: inout Router) {
        // Sign in: the admin token in the body (never in a URL), a cookie back.
        router.post("/admin/v1/session") { [database, authenticator] request, context in
            try CrossSiteRequestCheck.requireSameOrigin(request)
            let body = try RequestSupport.jsonObject(request)
            guard case .string(let token)? = body["token"], authenticator.accepts(token.trimmingWhitespace()) else {
                context.logger.warning("console sign-in refused: wrong admin token")
                throw AdminAuthenticator.unauthorized("Wrong admin token.")
            }
            let (sessionToken, session) = try Self.database(database) { try AdminSessions.create(on: $0) }
            context.logger.notice("console signed in", metadata: ["expires-at": .string(Timestamp.format(session.expiresAt))])
            var response = Self.uncached(session.json, status: .created)
            response.headerFields.append(ConsoleSessionCookie.setting(
                sessionToken, maxAge: Int(AdminSessions.lifetime.components.seconds), for: request))
            return response
        }

        // Whether the browser is signed in, and the CSRF token its writes carry.
        router.get("/admin/v1/session") { [database] request, _ in
            guard let token = ConsoleSessionCookie.token(in: request) else { throw AdminAccess.sessionEnded(request) }
            return Self.uncached(try AdminAccess.requireSession(token, request: request, database: database).json)
        }

        // Sign out: the session ends on every instance, and the browser drops the cookie.
        router.delete("/admin/v1/session") { [database] request, context in
            guard let token = ConsoleSessionCookie.token(in: request) else { throw AdminAccess.sessionEnded(request) }
            try AdminAccess.requireSession(token, request: request, database: database)
            try CrossSiteRequestCheck.requireConsoleWrite(request, sessionToken: token)
            try Self.database(database) { try AdminSessions.delete(token: token, on: $0) }
            context.logger.notice("console signed out")
            var response = Response(status: .noContent)
            response.headerFields.append(ConsoleSessionCookie.clearing(for: request))
            return response
        }
    }

    /// Runs `body` on a pooled connection; database failures become their 503s.
    private static func database<Result>(_ pool: PostgresConnectionPool, _ body: (PostgresConnection) throws -> Result) throws -> Result {
        do {
            return try pool.withConnection(body)
        } catch {
            throw Problem.from(error) ?? error
        }
    }

    private static func uncached(_ object: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response.json(JSONWriter.serialize(.object(object)), status: status)
        response.headerFields[.cacheControl] = "no-store"
        return response
    }
}
