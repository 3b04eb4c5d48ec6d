import ArgumentParser
import Foundation
import ReceiverCore
import ReceiverHTTP

struct TurnupReader: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reader",
        abstract: "Issue, list and revoke a client's reader credentials (read-only access for club systems).",
        discussion: """
            A reader credential lets a club system read what the Connector wrote for the client: \
            HTTP Basic on /v1 like the Connector's credential, but read-only. It may GET anything \
            under /v1 (prospects, members, staff, lead sources, the change feed); any other method \
            is answered 403 and nothing is written. A client may hold any number of them beside \
            its one Connector credential; rotating the Connector's credential (`turnup rotate`) \
            leaves them working. Issue one per club system, labelled with who holds it, so each \
            can be revoked on its own.

            Example:
              connector-receiver turnup reader add acme --label "Club CRM"
              connector-receiver turnup reader list acme
              connector-receiver turnup reader revoke acme <id>
            """,
        subcommands: [TurnupReaderAdd.self, TurnupReaderList.self, TurnupReaderRevoke.self])
}

struct TurnupReaderAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Issue a reader credential; print its username and password (shown once).",
        discussion: """
            Prints a sheet for the club system's team: client ID, base URL, username and password. \
            The password is shown this once only; the database keeps a hash. A lost password is \
            not recovered: revoke the credential and issue a new one.

            Example:
              connector-receiver turnup reader add acme --label "Club CRM (reporting)"
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Option(help: ArgumentHelp(
        "Who holds the credential, e.g. \"Club CRM\": 1 to \(ReaderCredentials.maximumLabelLength) characters. Shown in `turnup reader list`.",
        valueName: "label"))
    var label: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let label: String
        switch ReaderCredentials.parseLabel(["label": .string(self.label)]) {
        case .success(let parsed): label = parsed
        case .failure(let failure): throw TurnupError("--label: " + failure.errors.map(\.message).joined(separator: "; ") + ".")
        }
        let (client, issued) = try TurnupSession.run(common) { session in
            let client = try ClientStore.require(clientId, on: session.connection)
            return (client, try ReaderCredentials.issue(clientId: clientId, label: label, by: session.audit, on: session.connection))
        }
        if common.json {
            TurnupPrint.json(issued.json)
            return
        }
        print("Issued a reader credential for client \(clientId): \(issued.reader.label)")
        print("")
        print("Client ID:  \(clientId)")
        print("Base URL:   \(client.connection.baseURL)")
        print("ID:         \(issued.reader.id.lowercasedString)")
        print("Username:   \(issued.reader.username)")
        print("Password:   \(issued.password)")
        print("")
        print("Read-only: GET on /v1 (records, lists, staff, lead sources, the change feed) with HTTP Basic;")
        print("any other method is answered 403.")
        print("")
        print("The password is shown only this once; the receiver keeps only a hash of it. Send it to the")
        print("club system's team over a secure channel. If it is lost or leaks, revoke it and issue another:")
        print("  connector-receiver turnup reader revoke \(clientId) \(issued.reader.id.lowercasedString)")
    }
}

struct TurnupReaderList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a client's reader credentials with when each was last used (never a password).",
        discussion: """
            Revoked credentials are not listed. LAST USED is when the credential last authenticated \
            a /v1 call, to within a minute; "never" if it has not been used.
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let readers = try TurnupSession.run(common) { session in
            try ClientStore.requireExists(clientId, on: session.connection)
            var all: [ReaderCredential] = []
            while true {
                let page = try ReaderCredentials.list(clientId: clientId, after: all.last?.id, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(readers.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        guard !readers.isEmpty else {
            print("\(clientId) has no reader credentials. Issue one with: connector-receiver turnup reader add \(clientId) --label <who holds it>")
            return
        }
        TurnupPrint.table(
            ["ID", "USERNAME", "CREATED", "LAST USED", "LABEL"],
            readers.map { reader in
                [reader.id.lowercasedString, reader.username, TurnupPrint.time(reader.createdAt),
                 reader.lastUsedAt.map(TurnupPrint.time) ?? "never", reader.label]
            })
    }
}

struct TurnupReaderRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a reader credential: its next /v1 call is answered 401.",
        discussion: """
            Takes effect at once, on every instance. The credential leaves `turnup reader list`; the \
            audit trail keeps its id, label and username.

            Example:
              connector-receiver turnup reader revoke acme 0193f4b2-6c1d-7a9e-8b3f-2d5e7c9a1b04
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Argument(help: ArgumentHelp("The reader credential's ID, as `turnup reader list` shows it.", valueName: "id"))
    var id: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let reader = try TurnupSession.run(common, hint: { [clientId] error in
            guard case .notFound(let detail) = error, !detail.hasPrefix("No client ") else { return nil }
            return detail + " List them with `connector-receiver turnup reader list \(clientId)`."
        }) { session in
            let id = try ReaderCredentials.parseId(id, clientId: clientId, on: session.connection)
            return try ReaderCredentials.revoke(id, clientId: clientId, by: session.audit, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(reader.json)
            return
        }
        print("Revoked reader credential \(reader.id.lowercasedString) (\(reader.label), username \(reader.username)) of client \(clientId).")
        print("Its next /v1 call is answered 401.")
    }
}
