import Foundation
import OutboundHTTP
import Postgres
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `connector-receiver turnup …` as an operator runs it, on a fresh database of
/// the test cluster (`TEST_DATABASE_URL`) per test.
@Suite struct TurnupCommandTests {
    static let addAcme = [
        "turnup", "add", "acme", "--name", "Acme Fitness", "--club", "club-001=Downtown", "--club", "club-002=Uptown",
        "--connection", "https://receiver.example.com",
    ]

    @Test func addPrintsTheSheetWithThePasswordAndReadsNeverShowIt() throws {
        try TurnupDatabase.with { database in
            let added = try database.run(Self.addAcme)
            #expect(added.status == 0, "\(added.output)")
            #expect(added.output.contains("Client ID:  acme"))
            #expect(added.output.contains("Base URL:   https://receiver.example.com"))
            #expect(added.output.contains("Club IDs:   club-001  Downtown"))
            #expect(added.output.contains("club-002  Uptown"))
            #expect(added.output.contains("Username:   acme."))
            #expect(added.output.contains("turnup rotate acme"), "says what to do if the password is lost")
            let password = try #require(TurnupDatabase.field("Password", in: added.output))
            #expect(password.count >= 32)

            for arguments in [["list"], ["list", "--json"], ["show", "acme"], ["show", "acme", "--json"], ["audit", "acme"], ["audit", "acme", "--json"]] {
                let read = try database.run(["turnup"] + arguments)
                #expect(read.status == 0, "\(arguments): \(read.output)")
                #expect(!read.output.contains(password), "\(arguments) shows the password")
                #expect(!read.output.contains("b2$"), "\(arguments) shows the hash")
            }
            let list = try database.run(["turnup", "list"])
            #expect(list.output.contains("acme") && list.output.contains("https://receiver.example.com"))
            let shown = try database.json(["turnup", "show", "acme", "--json"])
            #expect(shown["clientId"] as? String == "acme")
            #expect(shown["status"] as? String == "active")
            #expect((shown["clubs"] as? [[String: Any]])?.map { $0["clubId"] as? String } == ["club-001", "club-002"])

            let audit = try database.json(["turnup", "audit", "acme", "--json"])
            let events = try #require(audit["items"] as? [[String: Any]])
            #expect(events.first?["action"] as? String == "client.create")
            #expect((events.first?["actor"] as? String)?.hasPrefix("cli:") == true)
        }
    }

    @Test func aDuplicateAddFailsWithAHelpfulMessage() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(Self.addAcme).status == 0)
            let again = try database.run(Self.addAcme)
            #expect(again.status != 0)
            #expect(again.output.contains("client acme already exists"), "\(again.output)")
            #expect(again.output.contains("turnup show acme"))
            #expect(!again.output.contains("Password:"))
        }
    }

    @Test func invalidInputIsReportedByOption() throws {
        try TurnupDatabase.with { database in
            let bad = try database.run(["turnup", "add", "acme!", "--name", "X", "--club", "bad id=Somewhere", "--option", "colour=blue"])
            #expect(bad.status != 0)
            #expect(bad.output.contains("client ID"), "\(bad.output)")
            #expect(bad.output.contains("--club #1"))
            #expect(bad.output.contains("--option colour: is not a known option"))
            let noClub = try database.run(["turnup", "add", "acme", "--name", "X"])
            #expect(noClub.status != 0)
            #expect(noClub.output.contains("at least one club"))
            let noName = try database.run(["turnup", "add", "acme", "--name", "X", "--club", "club-001"])
            #expect(noName.output.contains("club-001=\"Downtown\""), "\(noName.output)")
            let badURL = try database.run(Self.addAcme.dropLast() + ["ftp://example.com"])
            #expect(badURL.status != 0)
            #expect(badURL.output.contains("http:// or https://"), "\(badURL.output)")
            let unknown = try database.run(["turnup", "show", "nobody"])
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("No client nobody"))
            #expect(unknown.output.contains("turnup list"))
        }
    }

    @Test func clubsAreToggledAndAdded() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(Self.addAcme).status == 0)
            let off = try database.run(["turnup", "club", "acme", "club-002", "--disable"])
            #expect(off.status == 0, "\(off.output)")
            #expect(off.output.contains("disabled (was enabled)"))
            var clubs = try #require(try database.json(["turnup", "show", "acme", "--json"])["clubs"] as? [[String: Any]])
            #expect(clubs.map { $0["enabled"] as? Bool } == [true, false])
            #expect(try database.run(["turnup", "show", "acme"]).output.contains("club-002  off  Uptown"))

            #expect(try database.run(["turnup", "club", "acme", "club-002", "--enable"]).output.contains("enabled (was disabled)"))
            let new = try database.run(["turnup", "club", "acme", "club-003"])
            #expect(new.status != 0)
            #expect(new.output.contains("--name"), "\(new.output)")
            #expect(try database.run(["turnup", "club", "acme", "club-003", "--name", "Riverside", "--disable"]).status == 0)
            clubs = try #require(try database.json(["turnup", "show", "acme", "--json"])["clubs"] as? [[String: Any]])
            #expect(clubs.map { $0["clubId"] as? String } == ["club-001", "club-002", "club-003"])
            #expect(clubs.map { $0["enabled"] as? Bool } == [true, true, false])
        }
    }

    @Test func rotateIssuesANewPasswordAndSuspendResumeToggleTheStatus() throws {
        try TurnupDatabase.with { database in
            let added = try database.run(Self.addAcme)
            let oldPassword = try #require(TurnupDatabase.field("Password", in: added.output))
            let rotated = try database.run(["turnup", "rotate", "acme"])
            #expect(rotated.status == 0, "\(rotated.output)")
            let newPassword = try #require(TurnupDatabase.field("Password", in: rotated.output))
            let newUsername = try #require(TurnupDatabase.field("Username", in: rotated.output))
            #expect(newPassword != oldPassword)
            #expect(!rotated.output.contains(oldPassword))
            let shown = try database.json(["turnup", "show", "acme", "--json"])
            #expect(shown["username"] as? String == newUsername)

            #expect(try database.run(["turnup", "suspend", "acme"]).output.contains("Suspended client acme"))
            #expect(try database.json(["turnup", "show", "acme", "--json"])["status"] as? String == "suspended")
            #expect(try database.run(["turnup", "resume", "acme"]).output.contains("Resumed client acme"))
            let actions = try #require(try database.json(["turnup", "audit", "acme", "--json"])["items"] as? [[String: Any]]).map { $0["action"] as? String }
            #expect(actions == ["client.create", "credentials.rotate", "client.suspend", "client.resume"])
        }
    }

    @Test func staffAreSetListedAndDeactivated() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(Self.addAcme).status == 0)
            let set = try database.run(["turnup", "staff", "set", "acme", "kim@example.com", "--first-name", "Kim", "--role", "Coach", "--club", "club-001"])
            #expect(set.status == 0, "\(set.output)")
            let changed = try database.run(["turnup", "staff", "set", "acme", "KIM@example.com", "--club", "club-002"])
            #expect(changed.output.contains("Saved staff member KIM@example.com"), "\(changed.output)")
            let foreign = try database.run(["turnup", "staff", "set", "acme", "kim@example.com", "--club", "club-009"])
            #expect(foreign.status != 0)
            #expect(foreign.output.contains("club-009 is not a club of client acme"))
            let list = try database.json(["turnup", "staff", "list", "acme", "--json"])
            let staff = try #require((list["items"] as? [[String: Any]])?.first)
            #expect(staff["firstName"] as? String == "Kim", "what was not given stays")
            #expect(staff["clubIds"] as? [String] == ["club-002"])
            #expect(try database.run(["turnup", "staff", "deactivate", "acme", "kim@example.com"]).status == 0)
            #expect(try database.run(["turnup", "staff", "list", "acme"]).output.contains("no "))
        }
    }

    @Test func verifyCallsARunningServeAndSharesItsDatabase() throws {
        try TurnupDatabase.with { database in
            let tokenFile = "/tmp/cr-admin-token-\(UUID().uuidString.prefix(8))"
            try "cli-test-admin-token-0123456789\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: tokenFile) }
            let server = try ReceiverProcess(environment: ["DATABASE_URL": database.url, "RECEIVER_ADMIN_TOKEN_FILE": tokenFile])
            try server.waitUntilListening()
            #expect(server.log.contains("admin API is on"), "\(server.log)")

            let added = try database.run(["turnup", "add", "acme", "--name", "Acme", "--club", "club-001=Downtown", "--connection", "http://127.0.0.1:\(server.port)"])
            let password = try #require(TurnupDatabase.field("Password", in: added.output))
            let passwordFile = "/tmp/cr-password-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: passwordFile) }

            try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
            let verified = try database.run(["turnup", "verify", "acme", "--password-file", passwordFile])
            #expect(verified.status == 0, "\(verified.output)")
            for step in ["healthz", "unauthenticated", "authenticated"] {
                #expect(verified.output.split(separator: "\n").contains { $0.hasPrefix(step) && $0.contains(" ok ") }, "\(step): \(verified.output)")
            }
            #expect(!verified.output.contains(password))
            let json = try database.json(["turnup", "verify", "acme", "--password-file", passwordFile, "--json"])
            #expect((json["steps"] as? [[String: Any]])?.map { $0["ok"] as? Bool } == [true, true, true])

            try "not-the-password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            let wrong = try database.run(["turnup", "verify", "acme", "--password-file", passwordFile])
            #expect(wrong.status != 0)
            #expect(wrong.output.contains("FAILED"))
            #expect(wrong.output.contains("401"))

            // The admin API of that serve sees the client the CLI turned up; the
            // token file's trailing line break is not part of the token.
            let response = try OutboundHTTPClient.shared.send(OutboundRequest(
                url: "http://127.0.0.1:\(server.port)/admin/v1/clients/acme",
                headers: [("Authorization", "Bearer cli-test-admin-token-0123456789")], totalTimeout: .seconds(10)))
            #expect(response.status == 200)
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
            #expect(!server.log.contains(password), "the server logged the password")
        }
    }

    @Test func serveSaysWhenTheAdminAPIIsOff() throws {
        try TurnupDatabase.with { database in
            let server = try ReceiverProcess(environment: ["DATABASE_URL": database.url, "RECEIVER_ADMIN_TOKEN": "", "RECEIVER_ADMIN_TOKEN_FILE": ""])
            try server.waitUntilListening()
            #expect(server.log.contains("admin API is off"), "\(server.log)")
            let response = try server.get("/admin/v1/clients")
            #expect(response.status == 404)
            #expect(String(decoding: response.body, as: UTF8.self).contains("admin-api-off"))
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
        }
    }

    @Test func serveRefusesABadAdminTokenOrPublicURL() throws {
        let short = try Executable.run(["serve", "--port", "0"], environment: ["DATABASE_URL": "host=/nonexistent", "RECEIVER_ADMIN_TOKEN": "short"])
        #expect(short.status != 0)
        #expect(short.output.contains("at least 16"), "\(short.output)")
        let both = try Executable.run(["serve", "--port", "0"], environment: [
            "DATABASE_URL": "host=/nonexistent", "RECEIVER_ADMIN_TOKEN": "0123456789abcdef0", "RECEIVER_ADMIN_TOKEN_FILE": "/nonexistent",
        ])
        #expect(both.output.contains("set only one"), "\(both.output)")
        let missingFile = try Executable.run(["serve", "--admin-token-file", "/nonexistent/token"], environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(missingFile.output.contains("cannot read"), "\(missingFile.output)")
        let badURL = try Executable.run(["serve", "--public-url", "https://example.com/path"], environment: ["DATABASE_URL": "host=/nonexistent"])
        #expect(badURL.output.contains("--public-url"), "\(badURL.output)")
    }

    @Test(arguments: [
        (["turnup", "--help"], ["add", "list", "show", "club", "suspend", "resume", "rotate", "verify", "staff", "cli:"]),
        (["turnup", "add", "--help"], ["--club", "--connection", "--option", "smartMatch", "RECEIVER_PUBLIC_URL", "Example"]),
        (["turnup", "list", "--help"], ["--json", "--database-url"]),
        (["turnup", "show", "--help"], ["<client-id>", "--json"]),
        (["turnup", "update", "--help"], ["--name", "--connection", "--option"]),
        (["turnup", "club", "--help"], ["--enable", "--disable", "--name"]),
        (["turnup", "suspend", "--help"], ["403"]),
        (["turnup", "resume", "--help"], ["<client-id>"]),
        (["turnup", "rotate", "--help"], ["old password"]),
        (["turnup", "verify", "--help"], ["--password-file", "--password-stdin", "healthz"]),
        (["turnup", "staff", "--help"], ["list", "set", "deactivate"]),
        (["turnup", "staff", "set", "--help"], ["--first-name", "--club", "--active"]),
        (["turnup", "audit", "--help"], ["<client-id>"]),
        (["turnup", "sync-errors", "--help"], ["<client-id>"]),
        (["serve", "--help"], ["--admin-token-file", "RECEIVER_ADMIN_TOKEN", "--public-url", "RECEIVER_PUBLIC_URL"]),
    ])
    func everySubcommandHasHelp(arguments: [String], expected: [String]) throws {
        let result = try Executable.run(arguments)
        #expect(result.status == 0)
        for text in expected {
            #expect(result.output.contains(text), "\(arguments.joined(separator: " ")) help lacks \(text)")
        }
    }
}

/// A fresh database on the test cluster for one test, and the CLI run against it.
struct TurnupDatabase {
    let url: String

    static func with(_ body: (TurnupDatabase) throws -> Void) throws {
        try TestDatabase.withDatabase { configuration in
            try body(TurnupDatabase(url: try TestDatabase.url(ofDatabase: configuration.database ?? "postgres")))
        }
    }

    /// Runs `connector-receiver` with DATABASE_URL set to this database.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Executable.run(arguments, environment: ["DATABASE_URL": url])
    }

    /// Runs a `--json` command and parses its standard output.
    func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments)
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        else { throw TestSetupError(description: "\(arguments) failed or printed no JSON object: \(result.output)") }
        return object
    }

    /// The value of a `Label:   value` line of the turn-up sheet.
    static func field(_ label: String, in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(label + ":") }
            .map { $0.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces) }
    }
}
