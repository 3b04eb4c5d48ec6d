import HTTPServer
import HTTPTypes
import Postgres
import ReceiverCore

/// Who may call `/admin/v1`: the holder of the admin token, sent as a bearer
/// token (scripts, the CLI's peers), or a signed-in console, by its session
/// cookie. A request with an `Authorization` field is judged by the token
/// alone, exactly as before the console existed.
enum AdminAccess {
    /// The audit trail's actor of each way in.
    static let tokenActor = "admin-token"
    static let consoleActor = "admin-console"

    /// The actor, or the problem: 401 without a valid token or session, 403 for a
    /// cookie-authenticated write that fails ``CrossSiteRequestCheck``, 503 when
    /// the database cannot be asked about the session.
    static func authenticate(_ request: Request, token authenticator: AdminAuthenticator, database: PostgresConnectionPool) throws -> String {
        guard request.headerFields.value(of: .authorization) == nil, let sessionToken = ConsoleSessionCookie.token(in: request) else {
            try authenticator.authenticate(request)
            return tokenActor
        }
        try requireSession(sessionToken, request: request, database: database)
        if request.method != .get, request.method != .head {
            try CrossSiteRequestCheck.requireConsoleWrite(request, sessionToken: sessionToken)
        }
        return consoleActor
    }

    /// The live session of `token`, else a 401 that also clears the browser's cookie.
    @discardableResult
    static func requireSession(_ token: String, request: Request, database: PostgresConnectionPool) throws -> AdminSession {
        let session: AdminSession?
        do {
            session = try database.withConnection { try AdminSessions.find(token: token, on: $0) }
        } catch {
            throw Problem.from(error) ?? error
        }
        guard let session else { throw sessionEnded(request) }
        return session
    }

    static func sessionEnded(_ request: Request) -> Problem {
        var problem = AdminAuthenticator.unauthorized("The console session has ended or was never started; sign in again.")
        problem.headerFields.append(ConsoleSessionCookie.clearing(for: request))
        return problem
    }
}
