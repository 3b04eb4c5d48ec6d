import ArgumentParser
import ReceiverCore
import ReceiverHTTP

struct TurnupClub: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "club",
        abstract: "Add a club to a client, rename it, or switch it on or off.",
        discussion: """
            A club switched off (--disable) accepts no /v1 writes and its records are left out of \
            lists; --enable switches it back on. For an existing club, what is not given stays as \
            it is; a new club needs --name and starts enabled unless --disable is given.

            Examples:
              connector-receiver turnup club acme club-002 --disable
              connector-receiver turnup club acme club-003 --name "Riverside"
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Argument(help: ArgumentHelp("The club's ID within the client.", valueName: "club-id"))
    var clubId: String

    @Option(help: "The club's name (required for a new club).")
    var name: String?

    /// `--enable` or `--disable`, at most one.
    enum Switch: String, EnumerableFlag {
        case enable, disable

        static func help(for value: Switch) -> ArgumentHelp? {
            value == .enable ? "Switch the club on: it accepts writes again." : "Switch the club off: no /v1 writes, left out of lists."
        }
    }

    @Flag var toggle: Switch?

    private var enabled: Bool? { toggle.map { $0 == .enable } }

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let (club, created, before) = try TurnupSession.run(common) { session in
            let client = try ClientStore.require(clientId, on: session.connection)
            let existing = client.clubs.first { $0.clubId == clubId }
            guard let clubName = name ?? existing?.name else {
                throw TurnupError("club \(clubId) is new to \(clientId): give it a name with --name \"…\" (clubs now: \(client.clubs.map(\.clubId).joined(separator: ", "))).")
            }
            // The full representation the admin API's PUT takes, through the same parser.
            let body: JSONObject = ["name": .string(clubName), "enabled": .bool(enabled ?? existing?.enabled ?? true)]
            let input: ClubInput
            switch ClubInput.parse(body, clubId: clubId) {
            case .success(let parsed): input = parsed
            case .failure(let failure): throw ReceiverError.invalid(failure.errors)
            }
            let (club, created) = try ClientStore.upsertClub(input, clientId: clientId, by: session.audit, on: session.connection)
            return (club, created, existing)
        }
        if common.json {
            TurnupPrint.json(club.json)
            return
        }
        let state = club.enabled ? "enabled" : "disabled"
        if created {
            print("Added club \(club.clubId) (\(club.name)) to \(clientId): \(state).")
        } else if let before, before.enabled != club.enabled || before.name != club.name {
            var changes: [String] = []
            if before.enabled != club.enabled { changes.append("\(state) (was \(before.enabled ? "enabled" : "disabled"))") }
            if before.name != club.name { changes.append("renamed from \(before.name)") }
            print("Club \(club.clubId) (\(club.name)) of \(clientId): \(changes.joined(separator: ", ")).")
        } else {
            print("Club \(club.clubId) (\(club.name)) of \(clientId) is already \(state); nothing changed.")
        }
    }
}
