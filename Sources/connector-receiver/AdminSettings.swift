import ArgumentParser
import Foundation
import ReceiverCore
import ReceiverHTTP

/// `serve`'s admin API settings: the admin token and the public URL, resolved
/// against the environment (flags win) and checked before anything starts.
struct AdminSettings {
    /// Nil: the admin API is off.
    var authenticator: AdminAuthenticator?
    /// Where the token came from, for the start-up log (never the token itself).
    var tokenSource: String?
    /// `--public-url` / `RECEIVER_PUBLIC_URL`; nil: the server's own address.
    var publicConnection: ClientConnection?

    init(adminTokenFile: String?, publicURL: String?) throws {
        let (token, source) = try Self.token(file: adminTokenFile)
        if let token, let source {
            do {
                authenticator = try AdminAuthenticator(token: token)
            } catch {
                throw ValidationError("\(source): \(error.description).")
            }
            tokenSource = source
        }
        if let url = publicURL ?? Environment.value("RECEIVER_PUBLIC_URL") {
            switch ClientConnection.parse(url: url) {
            case .success(let connection): publicConnection = connection
            case .failure(let error):
                throw ValidationError("--public-url (or RECEIVER_PUBLIC_URL): \(error.description).")
            }
        }
    }

    /// The token and where it came from: `--admin-token-file`, else
    /// `RECEIVER_ADMIN_TOKEN_FILE` or `RECEIVER_ADMIN_TOKEN` (not both).
    private static func token(file flag: String?) throws -> (String?, String?) {
        let resolved = try SecretFile.resolve(flagFile: flag, flagName: "--admin-token-file", variable: "RECEIVER_ADMIN_TOKEN")
        return (resolved?.value, resolved?.source)
    }
}
