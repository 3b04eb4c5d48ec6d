import CSodium
import Foundation
import Postgres

/// Sign-in sessions of the admin console (`admin_sessions`), shared by every
/// instance through the database.
///
/// A session token is 32 random bytes (43 base64url characters) that only the
/// browser holds, in an HttpOnly cookie; the table keeps its BLAKE2b-256
/// digest. With 256 bits of entropy a fast unkeyed digest is enough: nothing in
/// the table can be turned back into a cookie. The CSRF token that the
/// console's writes carry is derived from the session token (a keyed digest),
/// so it needs no storage and cannot be computed without the cookie's value.
public enum AdminSessions {
    /// How long a sign-in lasts; then the admin enters the token again.
    public static let lifetime: Duration = .seconds(8 * 3_600)

    /// Starts a session: returns the token for the cookie and the session.
    /// Expired sessions are deleted on the way, so the table holds only live ones
    /// (plus those expired since the last sign-in, which are refused on sight).
    public static func create(lifetime: Duration = lifetime, on connection: PostgresConnection) throws -> (token: String, session: AdminSession) {
        let token = CredentialSecrets.newPassword()
        let seconds = Int(lifetime.components.seconds)
        let rows = try connection.transaction { connection in
            try connection.execute("DELETE FROM admin_sessions WHERE expires_at <= now()")
            return try connection.query("""
                INSERT INTO admin_sessions (token_hash, expires_at)
                VALUES (\(digest(token)), now() + make_interval(secs => \(seconds)))
                RETURNING expires_at
                """)
        }
        let expiresAt: Date = try rows.first!.decode("expires_at")
        return (token, AdminSession(expiresAt: expiresAt, csrfToken: csrfToken(forSessionToken: token)))
    }

    /// The live session of `token`, or nil (unknown, signed out or expired).
    public static func find(token: String, on connection: PostgresConnection) throws -> AdminSession? {
        guard isWellFormed(token) else { return nil }
        let rows = try connection.query("""
            SELECT expires_at FROM admin_sessions WHERE token_hash = \(digest(token)) AND expires_at > now()
            """)
        guard let row = rows.first else { return nil }
        return AdminSession(expiresAt: try row.decode("expires_at"), csrfToken: csrfToken(forSessionToken: token))
    }

    /// Ends the session of `token` (signing out); nothing happens when there is none.
    public static func delete(token: String, on connection: PostgresConnection) throws {
        guard isWellFormed(token) else { return }
        try connection.execute("DELETE FROM admin_sessions WHERE token_hash = \(digest(token))")
    }

    /// The CSRF token of a session: BLAKE2b-256 keyed with the session token
    /// over a fixed label, hex.
    public static func csrfToken(forSessionToken token: String) -> String {
        CredentialSecrets.ensureInitialized()
        let key = Array(token.utf8)
        let message = Array("connector-receiver console csrf".utf8)
        var output = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&output, output.count, message, UInt64(message.count), key, min(key.count, Int(crypto_generichash_KEYBYTES_MAX)))
        return CredentialSecrets.hex(output)
    }

    /// Whether `presented` is the session's CSRF token, compared in constant time.
    public static func csrfTokenMatches(_ presented: String, sessionToken: String) -> Bool {
        let expected = Array(csrfToken(forSessionToken: sessionToken).utf8)
        let given = Array(presented.utf8)
        guard given.count == expected.count else { return false }
        return sodium_memcmp(given, expected, expected.count) == 0
    }

    /// Tokens are 43 base64url characters; anything else is not looked up.
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
        }
    }

    static func digest(_ token: String) -> String {
        CredentialSecrets.ensureInitialized()
        let message = Array(token.utf8)
        var output = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&output, output.count, message, UInt64(message.count), nil, 0)
        return CredentialSecrets.hex(output)
    }
}
