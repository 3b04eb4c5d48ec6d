import ArgumentParser
import Foundation
import ReceiverCore
import ReceiverHTTP

struct TurnupAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Turn up a client with its clubs; print the turn-up sheet with the password.",
        discussion: """
            Creates the client, its clubs and its first HTTP Basic credential, and prints the \
            turn-up sheet (client ID, club IDs, base URL, username, password) to paste into an \
            email or ticket for the Connector's team. The password is shown this once only; \
            the database keeps a hash.

            Options (--option name=value): \(ClientOptions.documentation.map { "\($0.name) (\($0.type), default \($0.defaultValue)): \($0.meaning)" }.joined(separator: " "))

            Example:
              connector-receiver turnup add acme --name "Acme Fitness" \\
                  --club club-001="Downtown" --club club-002="Uptown" \\
                  --connection https://receiver.example.com
            """
    )

    @Argument(help: ArgumentHelp("The client's ID: letters, digits, '.', '_' or '-', at most 64.", valueName: "client-id"))
    var clientId: String

    @Option(help: "The client's display name, e.g. \"Acme Fitness\".")
    var name: String

    @Option(name: .customLong("club"), help: ArgumentHelp(
        "A club, as <club-id>=<name>, e.g. club-001=\"Downtown\". Repeat for each club; at least one.", valueName: "id=name"))
    var clubs: [String] = []

    @Option(name: .customLong("disabled-club"), help: ArgumentHelp(
        "A club turned up switched off (accepts no writes until enabled with `turnup club`).", valueName: "id=name"))
    var disabledClubs: [String] = []

    @Option(help: ArgumentHelp(
        "The public base URL at which the Connector reaches this receiver for the client. (default: RECEIVER_PUBLIC_URL, else the public URL of the `serve` running on --data-dir; else not known, which the sheet says)",
        valueName: "url"))
    var connection: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("A client option, as name=value (see above). Repeatable.", valueName: "name=value"))
    var options: [String] = []

    @OptionGroup var common: TurnupOptions

    func validate() throws {
        if clubs.isEmpty && disabledClubs.isEmpty {
            throw ValidationError("Give the client at least one club: --club club-001=\"Downtown\".")
        }
    }

    func run() throws {
        var clubList: [JSONValue] = []
        for (entries, enabled) in [(clubs, true), (disabledClubs, false)] {
            for entry in entries {
                let (clubId, clubName) = try KeyValue.split(entry, option: enabled ? "--club" : "--disabled-club", example: "club-001=\"Downtown\"")
                clubList.append(.object(["clubId": .string(clubId), "name": .string(clubName), "enabled": .bool(enabled)]))
            }
        }
        let body: JSONObject = [
            "clientId": .string(clientId),
            "name": .string(name),
            "clubs": .array(clubList),
            "options": .object(try TurnupClientFlags.options(options)),
        ]
        let fallback = connection == nil ? try TurnupDefaultConnection.resolve(common.database) : nil
        let defaultConnection = try TurnupClientFlags.connection(connection) ?? fallback!.connection
        let request: TurnUpRequest
        switch TurnUpRequest.parse(body, defaultConnection: defaultConnection) {
        case .success(let parsed): request = parsed
        case .failure(let failure): throw TurnupError(TurnupError.describe(.invalid(failure.errors)))
        }
        let turnedUp = try TurnupSession.run(common, hint: { [clientId] error in
            guard case .conflict = error else { return nil }
            return "client \(clientId) already exists — use `connector-receiver turnup show \(clientId)` to see it, or `turnup rotate \(clientId)` for new credentials"
        }) { session in
            try ClientStore.turnUp(request, by: session.audit, on: session.connection)
        }
        let unknownNote = fallback?.unknownNote(clientId: clientId) ?? []
        if common.json {
            TurnupPrint.json(turnedUp.json)
            unknownNote.forEach { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            return
        }
        let client = turnedUp.client
        print("Turned up client \(client.clientId) (\(client.name)).")
        print("")
        TurnupClientText.printSheet(
            client, password: turnedUp.credential.password, baseURL: unknownNote.isEmpty ? nil : TurnupDefaultConnection.unknownSheetValue)
        print("")
        if !unknownNote.isEmpty { unknownNote.forEach { print($0) }; print("") }
        print("The password is shown only this once; the receiver keeps only a hash of it. Send it over a")
        print("secure channel. If it is lost, issue a new one: connector-receiver turnup rotate \(client.clientId)")
    }
}

struct TurnupList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every client: status, clubs, base URL, username (never a password).")

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let clients = try TurnupSession.run(common) { session in
            var all: [ClientRecord] = []
            while true {
                let page = try ClientStore.list(after: all.last?.clientId, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(clients.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        guard !clients.isEmpty else {
            print("No clients yet. Turn one up with: connector-receiver turnup add <client-id> --name <name> --club <id>=<name>")
            return
        }
        TurnupPrint.table(
            ["CLIENT ID", "NAME", "STATUS", "CLUBS", "BASE URL", "USERNAME"],
            clients.map { client in
                let disabled = client.clubs.filter { !$0.enabled }.count
                return [client.clientId, client.name, client.status,
                        "\(client.clubs.count)" + (disabled > 0 ? " (\(disabled) off)" : ""),
                        client.connection.baseURL, client.username ?? "-"]
            })
    }
}

struct TurnupShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one client: status, connection, options, clubs, username (never a password).")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let (client, openErrors) = try TurnupSession.run(common) { session in
            let client = try ClientStore.require(clientId, on: session.connection)
            let errors = try SyncErrorStore.listOpen(clientId: clientId, after: nil, limit: 501, on: session.connection)
            return (client, errors.count)
        }
        if common.json {
            TurnupPrint.json(client.json)
            return
        }
        TurnupClientText.printClient(client)
        print("Open sync errors: \(openErrors > 500 ? "more than 500" : String(openErrors))"
              + (openErrors > 0 ? " (connector-receiver turnup sync-errors \(client.clientId))" : ""))
    }
}

struct TurnupUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a client's name, connection or options.",
        discussion: """
            Only what is given changes. Options (--option name=value, or name=null for the default): \
            \(ClientOptions.documentation.map { "\($0.name) (\($0.type), default \($0.defaultValue))" }.joined(separator: ", ")).
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Option(help: "A new display name.")
    var name: String?

    @Option(help: ArgumentHelp("A new public base URL, e.g. https://receiver.example.com.", valueName: "url"))
    var connection: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("A client option, as name=value. Repeatable.", valueName: "name=value"))
    var options: [String] = []

    @OptionGroup var common: TurnupOptions

    func validate() throws {
        if name == nil && connection == nil && options.isEmpty {
            throw ValidationError("Nothing to change: give --name, --connection or --option.")
        }
    }

    func run() throws {
        var patch = JSONObject()
        if let name { patch["name"] = .string(name) }
        if let connection = try TurnupClientFlags.connection(connection) { patch["connection"] = .object(connection.json) }
        if !options.isEmpty { patch["options"] = .object(try TurnupClientFlags.options(options)) }
        try TurnupClientFlags.patch(clientId, patch, common: common) { before, after in
            before.version == after.version ? "Client \(clientId) already had these settings; nothing changed." : "Updated client \(clientId)."
        }
    }
}

struct TurnupSuspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend a client: every /v1 request with its credentials is answered 403.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        try TurnupClientFlags.patch(clientId, ["status": .string("suspended")], common: common) { before, _ in
            before.status == "suspended"
                ? "Client \(clientId) was already suspended."
                : "Suspended client \(clientId): its /v1 requests are answered 403 until `connector-receiver turnup resume \(clientId)`."
        }
    }
}

struct TurnupResume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Reactivate a suspended client.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        try TurnupClientFlags.patch(clientId, ["status": .string("active")], common: common) { before, _ in
            before.status == "active" ? "Client \(clientId) was already active." : "Resumed client \(clientId): its credentials work again."
        }
    }
}

/// What the client commands share: flags into JSON, the patch, the text.
enum TurnupClientFlags {
    static func options(_ entries: [String]) throws -> JSONObject {
        var object = JSONObject()
        for entry in entries {
            let (name, value) = try KeyValue.split(entry, option: "--option", example: "smartMatch=false")
            object[name] = KeyValue.jsonValue(value)
        }
        return object
    }

    static func connection(_ url: String?) throws -> ClientConnection? {
        guard let url else { return nil }
        switch ClientConnection.parse(url: url) {
        case .success(let connection): return connection
        case .failure(let error): throw TurnupError("--connection: \(error.description).")
        }
    }

    /// Applies a merge patch through the same path as `PATCH /admin/v1/clients/{id}`.
    static func patch(
        _ clientId: String, _ patch: JSONObject, common: TurnupOptions, message: (ClientRecord, ClientRecord) -> String
    ) throws {
        var before: ClientRecord?
        let after = try TurnupSession.run(common) { session in
            try ClientStore.update(clientId, by: session.audit, on: session.connection) { current in
                before = current
                switch ClientChanges.parse(patch, over: current) {
                case .success(let changes): return changes
                case .failure(let failure): throw ReceiverError.invalid(failure.errors)
                }
            }
        }
        if common.json {
            TurnupPrint.json(after.json)
            return
        }
        if let before { print(message(before, after)) }
        print("")
        TurnupClientText.printClient(after)
    }
}

/// A client as text.
enum TurnupClientText {
    /// - Parameter baseURL: shown instead of the client's when that is not a known address.
    static func printSheet(_ client: ClientRecord, password: String, baseURL: String? = nil) {
        let sheet = client.turnUpSheet
        print("Turn-up sheet for the Connector's team")
        print("--------------------------------------")
        print("Client ID:  \(sheet.clientId)")
        print("Base URL:   \(baseURL ?? sheet.baseURL)")
        let idWidth = client.clubs.map(\.clubId.count).max() ?? 0
        for (index, club) in client.clubs.enumerated() {
            let label = index == 0 ? "Club IDs:   " : "            "
            print(label + club.clubId.padding(toLength: idWidth, withPad: " ", startingAt: 0) + "  \(club.name)" + (club.enabled ? "" : " (disabled)"))
        }
        print("Username:   \(sheet.username)")
        print("Password:   \(password)")
    }

    static func printClient(_ client: ClientRecord) {
        print("Client \(client.clientId): \(client.name)")
        print("  Status:      \(client.status)")
        print("  Base URL:    \(client.connection.baseURL)")
        print("  Username:    \(client.username ?? "-")")
        let options = (client.options.json.objectValue?.members ?? []).map { "\($0.name)=\(String(decoding: JSONWriter.serialize($0.value), as: UTF8.self))" }
        print("  Options:     \(options.joined(separator: ", "))")
        print("  Version:     \(client.version) (created \(TurnupPrint.time(client.createdAt)), updated \(TurnupPrint.time(client.updatedAt)))")
        print("  Clubs:")
        let idWidth = client.clubs.map(\.clubId.count).max() ?? 0
        for club in client.clubs {
            print("    " + club.clubId.padding(toLength: idWidth, withPad: " ", startingAt: 0) + "  " + (club.enabled ? "on " : "off") + "  \(club.name)")
        }
    }
}
