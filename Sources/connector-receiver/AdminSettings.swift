import ArgumentParser
import Foundation
import Receiver

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
    /// `RECEIVER_ADMIN_TOKEN_FILE` or `RECEIVER_ADMIN_TOKEN` (not both: which one
    /// was meant would be a guess).
    private static func token(file flag: String?) throws -> (String?, String?) {
        if let flag { return (try read(flag, source: "--admin-token-file \(flag)"), "--admin-token-file \(flag)") }
        let file = Environment.value("RECEIVER_ADMIN_TOKEN_FILE")
        let inline = Environment.value("RECEIVER_ADMIN_TOKEN")
        switch (file, inline) {
        case (let file?, nil):
            return (try read(file, source: "RECEIVER_ADMIN_TOKEN_FILE=\(file)"), "RECEIVER_ADMIN_TOKEN_FILE=\(file)")
        case (nil, let inline?):
            return (inline, "RECEIVER_ADMIN_TOKEN")
        case (_?, _?):
            throw ValidationError("Both RECEIVER_ADMIN_TOKEN and RECEIVER_ADMIN_TOKEN_FILE are set; set only one.")
        case (nil, nil):
            return (nil, nil)
        }
    }

    /// The file's content without its trailing line break(s), as editors and
    /// `echo` leave them.
    private static func read(_ path: String, source: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(source): cannot read the file (missing, or not readable by this user).")
        }
        guard var token = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(source): the file is not UTF-8 text.")
        }
        while token.hasSuffix("\n") || token.hasSuffix("\r") { token.removeLast() }
        guard !token.isEmpty else { throw ValidationError("\(source): the file is empty.") }
        return token
    }
}
