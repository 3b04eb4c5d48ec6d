import EmbeddedPostgres
import Foundation
import ReceiverCore

/// The connection `turnup add` gives a client when `--connection` is not given:
/// the public URL of the server that will serve the client, when it is known.
struct TurnupDefaultConnection {
    enum Source: Equatable {
        /// `RECEIVER_PUBLIC_URL`: the operator said so.
        case environment
        /// The `serve` running on the embedded cluster of this data directory.
        case runningServe(dataDirectory: String)
        /// Nothing says where the server is reached (`why`): `connection` is serve's
        /// own default address, stored because a client needs one, not a known address.
        case unknown(why: String)
    }

    let connection: ClientConnection
    let source: Source

    static func resolve(_ database: DatabaseOptions) throws -> TurnupDefaultConnection {
        if let url = Environment.value("RECEIVER_PUBLIC_URL") {
            return TurnupDefaultConnection(connection: try parse(url, from: "RECEIVER_PUBLIC_URL"), source: .environment)
        }
        // Only the embedded default has a data directory that a serve shares with us.
        let why: String
        if try database.resolvedDatabaseURL() == nil {
            let dataDirectory = EmbeddedPostgres.absolutePath(database.resolvedDataDir)
            if let url = ServeURLFile.runningServeURL(dataDirectory: dataDirectory) {
                let connection = try parse(url, from: ServeURLFile.path(dataDirectory: dataDirectory))
                return TurnupDefaultConnection(connection: connection, source: .runningServe(dataDirectory: dataDirectory))
            }
            why = "no `serve` is running on the data directory \(dataDirectory)"
        } else {
            why = "on a DATABASE_URL, the command cannot ask the server"
        }
        let host = Environment.value("RECEIVER_HOST") ?? "127.0.0.1"
        let port = Environment.value("RECEIVER_PORT").flatMap(Int.init) ?? 8080
        return TurnupDefaultConnection(connection: ClientConnection(scheme: "http", host: host, port: port), source: .unknown(why: why))
    }

    /// What the sheet says instead of the base URL when it is not known.
    static let unknownSheetValue = "not known (see below)"

    /// The lines printed after the sheet when the base URL is not known; none when it is.
    func unknownNote(clientId: String) -> [String] {
        guard case .unknown(let why) = source else { return [] }
        return [
            "The base URL is not known: \(why), and neither --connection nor RECEIVER_PUBLIC_URL is set.",
            "The client has \(connection.baseURL) (serve's default address) until you set the address the Connector calls;",
            "do so before sending the sheet: connector-receiver turnup update \(clientId) --connection https://receiver.example.com",
        ]
    }

    private static func parse(_ url: String, from source: String) throws -> ClientConnection {
        switch ClientConnection.parse(url: url) {
        case .success(let connection): return connection
        case .failure(let error): throw TurnupError("\(source): \(error.description).")
        }
    }
}
