import ArgumentParser
import ReceiverCore
import ReceiverHTTP

struct TurnupStaff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff",
        abstract: "List, add, change or deactivate a client's staff (the Connector reads them).",
        subcommands: [TurnupStaffList.self, TurnupStaffSet.self, TurnupStaffDeactivate.self])
}

struct TurnupStaffList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a client's staff, active and inactive, by email.")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let staff = try TurnupSession.run(common) { session in
            try ClientStore.requireExists(clientId, on: session.connection)
            var all: [StaffRecord] = []
            while true {
                let after = all.last.map { (email: $0.email.lowercased(), id: $0.id) }
                let page = try StaffAdminStore.list(clientId: clientId, after: after, limit: 500, on: session.connection)
                all += page
                if page.count < 500 { return all }
            }
        }
        if common.json {
            TurnupPrint.json(["items": .array(staff.map { .object($0.json) }), "nextCursor": .null])
            return
        }
        guard !staff.isEmpty else {
            print("\(clientId) has no staff yet. Add one with: connector-receiver turnup staff set \(clientId) <email> --first-name … --club <club-id>")
            return
        }
        TurnupPrint.table(
            ["EMAIL", "NAME", "ROLE", "ACTIVE", "CLUBS"],
            staff.map { member in
                [member.email, [member.firstName, member.lastName].compactMap { $0 }.joined(separator: " "),
                 member.role ?? "", member.active ? "yes" : "no", member.clubIds.joined(separator: ", ")]
            })
    }
}

struct TurnupStaffSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Add a staff member, or change one (matched by email, ignoring case).",
        discussion: """
            For an existing staff member, what is not given stays as it is; an empty value \
            (--role "") clears a field; --club replaces the list of clubs. The email takes the \
            spelling given here.

            Example:
              connector-receiver turnup staff set acme kim.park@example.com --first-name Kim \\
                  --last-name Park --role "Membership Coach" --club club-001 --club club-002
            """)

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Argument(help: "The staff member's email.")
    var email: String

    @Option var firstName: String?
    @Option var lastName: String?
    @Option var role: String?

    @Option(name: .customLong("club"), help: ArgumentHelp("A club the staff member works at (repeatable; replaces the list).", valueName: "club-id"))
    var clubs: [String] = []

    @Flag(inversion: .prefixedNo, exclusivity: .exclusive, help: "Whether the staff member is active (--active, --no-active).")
    var active: Bool?

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let (staff, created) = try TurnupSession.run(common) { session in
            let existing = try StaffAdminStore.find(email: email, clientId: clientId, on: session.connection)
            // The full representation the admin API's PUT takes, merged over
            // the current record, through the same parser.
            var body = existing?.input.json ?? StaffInput(email: email).json
            if let firstName { body["firstName"] = .string(firstName) }
            if let lastName { body["lastName"] = .string(lastName) }
            if let role { body["role"] = .string(role) }
            if !clubs.isEmpty { body["clubIds"] = .array(clubs.map(JSONValue.string)) }
            if let active { body["active"] = .bool(active) }
            let input: StaffInput
            switch StaffInput.parse(body, email: email) {
            case .success(let parsed): input = parsed
            case .failure(let failure): throw ReceiverError.invalid(failure.errors)
            }
            return try StaffAdminStore.upsert(input, clientId: clientId, by: session.audit, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(staff.json)
            return
        }
        print("\(created ? "Added" : "Saved") staff member \(staff.email) of \(clientId) (version \(staff.version)):")
        TurnupStaffText.printStaff(staff)
    }
}

struct TurnupStaffDeactivate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deactivate",
        abstract: "Deactivate a staff member (the record stays; the Connector sees it inactive).")

    @Argument(help: ArgumentHelp("The client's ID.", valueName: "client-id"))
    var clientId: String

    @Argument(help: "The staff member's email.")
    var email: String

    @OptionGroup var common: TurnupOptions

    func run() throws {
        let staff = try TurnupSession.run(common) { session in
            try StaffAdminStore.deactivate(email: email, clientId: clientId, by: session.audit, on: session.connection)
        }
        if common.json {
            TurnupPrint.json(staff.json)
            return
        }
        print("Deactivated staff member \(staff.email) of \(clientId).")
    }
}

enum TurnupStaffText {
    static func printStaff(_ staff: StaffRecord) {
        print("  Name:    \([staff.firstName, staff.lastName].compactMap { $0 }.joined(separator: " "))")
        print("  Role:    \(staff.role ?? "-")")
        print("  Clubs:   \(staff.clubIds.isEmpty ? "-" : staff.clubIds.joined(separator: ", "))")
        print("  Active:  \(staff.active ? "yes" : "no")")
    }
}
