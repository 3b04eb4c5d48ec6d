import Foundation
import ReceiverCore

/// The three lines `serve` prints on standard output once it listens: what a
/// person who has just started it does next (the admin token, the turn-up
/// command, the API description), with this server's own address in them.
struct ServeNextSteps {
    /// This server's address as seen from this machine.
    var local: ClientConnection
    /// Where the admin token came from; nil: the admin API is off.
    var adminTokenSource: String?
    var servesOpenAPI: Bool
    /// The flags `turnup` needs to find the same database.
    var turnupDatabaseFlags: String

    var lines: [String] {
        var local = local
        // A wildcard listen address is reached on the loopback address.
        if local.host == "0.0.0.0" { local.host = "127.0.0.1" }
        if local.host == "::" { local.host = "::1" }
        let base = local.baseURL
        let admin = adminTokenSource.map {
            "Admin API: \(base)/admin/v1 with the header \"Authorization: Bearer <the token in \($0)>\"."
        } ?? "Admin API: off; to use \(base)/admin/v1, restart with RECEIVER_ADMIN_TOKEN=<16 or more characters> (turnup needs no token)."
        let executable = CommandLine.arguments.first ?? "connector-receiver"
        let turnup = "Turn up a client (from another shell, here): \(executable) turnup add acme --name \"Acme Fitness\" --club club-001=Downtown"
            + turnupDatabaseFlags
        let description = servesOpenAPI
            ? "API description: \(base)/openapi.yaml (a first round trip with curl: README.md, Quick start)."
            : "API description: openapi.yaml of the repository (not served here: see the warning above)."
        return [admin, turnup, description]
    }

    /// Written at once, not through `print`'s buffer, which holds standard output
    /// back until exit when it is not a terminal.
    func print() {
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// `--data-dir <dir>` when it is not the default, for a shell in the same directory;
    /// a reminder when the database is a URL, which is not repeated (it may hold a password).
    static func turnupDatabaseFlags(dataDir: String?, embedded: Bool) -> String {
        guard embedded else { return " (with the same DATABASE_URL)" }
        guard let dataDir, dataDir != ".data" else { return "" }
        let safe = dataDir.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+=:,@".contains($0)) }
        return " --data-dir " + (safe ? dataDir : "'" + dataDir.replacingOccurrences(of: "'", with: #"'\''"#) + "'")
    }
}
