import Foundation
import OutboundHTTP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `connector-receiver turnup reader …` as an operator runs it, on a fresh
/// database of the test cluster per test.
@Suite struct TurnupReaderCommandTests {
    @Test func readersAreAddedListedAndRevoked() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let none = try database.run(["turnup", "reader", "list", "acme"])
            #expect(none.status == 0)
            #expect(none.output.contains("acme has no reader credentials"), "\(none.output)")
            #expect(none.output.contains("turnup reader add acme --label"))

            let added = try database.run(["turnup", "reader", "add", "acme", "--label", "Club CRM"])
            #expect(added.status == 0, "\(added.output)")
            #expect(added.output.contains("Client ID:  acme"))
            #expect(added.output.contains("Base URL:   https://receiver.example.com"))
            #expect(added.output.contains("Username:   acme."))
            #expect(added.output.contains("shown only this once"))
            #expect(added.output.contains("403"), "says it is read-only")
            let id = try #require(TurnupDatabase.field("ID", in: added.output))
            let username = try #require(TurnupDatabase.field("Username", in: added.output))
            let password = try #require(TurnupDatabase.field("Password", in: added.output))
            #expect(password.count >= 32)
            #expect(added.output.contains("turnup reader revoke acme \(id)"), "says how to cut it off")

            let issued = try database.json(["turnup", "reader", "add", "acme", "--label", "Reporting", "--json"])
            #expect(Set(issued.keys) == ["id", "label", "username", "password", "createdAt"])
            #expect(issued["label"] as? String == "Reporting")
            let secondPassword = try #require(issued["password"] as? String)

            let list = try database.run(["turnup", "reader", "list", "acme"])
            #expect(list.status == 0)
            let lines = list.output.split(separator: "\n")
            #expect(lines.first?.hasPrefix("ID") == true, "\(list.output)")
            #expect(lines.contains { $0.hasPrefix(id) && $0.contains(username) && $0.contains("never") && $0.hasSuffix("Club CRM") }, "\(list.output)")
            let json = try database.json(["turnup", "reader", "list", "acme", "--json"])
            let items = try #require(json["items"] as? [[String: Any]])
            #expect(items.map { $0["label"] as? String } == ["Club CRM", "Reporting"])
            #expect(items.allSatisfy { $0["lastUsedAt"] is NSNull })
            #expect(json["nextCursor"] is NSNull)
            for read in [list.output, try database.run(["turnup", "reader", "list", "acme", "--json"]).output,
                         try database.run(["turnup", "audit", "acme", "--json"]).output] {
                #expect(!read.contains(password) && !read.contains(secondPassword))
                #expect(!read.contains("b2$"))
            }

            let revoked = try database.run(["turnup", "reader", "revoke", "acme", id])
            #expect(revoked.status == 0, "\(revoked.output)")
            #expect(revoked.output.contains("Revoked reader credential \(id) (Club CRM, username \(username))"))
            #expect(revoked.output.contains("401"))
            let left = try database.json(["turnup", "reader", "list", "acme", "--json"])
            #expect((left["items"] as? [[String: Any]])?.map { $0["label"] as? String } == ["Reporting"])
            let revokedJSON = try database.json(["turnup", "reader", "revoke", "acme", try #require(issued["id"] as? String), "--json"])
            #expect(revokedJSON["label"] as? String == "Reporting")
            #expect(revokedJSON["password"] == nil)

            let audit = try database.json(["turnup", "audit", "acme", "--json"])
            let events = try #require(audit["items"] as? [[String: Any]])
            #expect(events.map { $0["action"] as? String } == ["client.create", "reader.create", "reader.create", "reader.revoke", "reader.revoke"])
            #expect(events.dropFirst().allSatisfy { ($0["actor"] as? String)?.hasPrefix("cli:") == true })
            #expect((events[3]["changes"] as? [String: String]) == ["id": id, "label": "Club CRM", "username": username])
        }
    }

    @Test func mistakesAreReportedWithWhatToDo() throws {
        try TurnupDatabase.with { database in
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let blank = try database.run(["turnup", "reader", "add", "acme", "--label", "  "])
            #expect(blank.status != 0)
            #expect(blank.output.contains("--label: must not be empty"), "\(blank.output)")
            let long = try database.run(["turnup", "reader", "add", "acme", "--label", String(repeating: "x", count: 201)])
            #expect(long.output.contains("--label: must be at most 200 characters"), "\(long.output)")
            let noLabel = try database.run(["turnup", "reader", "add", "acme"])
            #expect(noLabel.status != 0)
            #expect(noLabel.output.contains("--label"), "\(noLabel.output)")

            for arguments in [["add", "nobody", "--label", "X"], ["list", "nobody"], ["revoke", "nobody", UUID().uuidString.lowercased()], ["revoke", "nobody", "x"]] {
                let unknown = try database.run(["turnup", "reader"] + arguments)
                #expect(unknown.status != 0)
                #expect(unknown.output.contains("No client nobody") && unknown.output.contains("turnup list"), "\(arguments): \(unknown.output)")
            }
            for id in [UUID().uuidString.lowercased(), "not-an-id"] {
                let unknown = try database.run(["turnup", "reader", "revoke", "acme", id])
                #expect(unknown.status != 0)
                #expect(unknown.output.contains("No active reader credential \(id) at client acme"), "\(unknown.output)")
                #expect(unknown.output.contains("turnup reader list acme"))
            }
            #expect((try database.json(["turnup", "audit", "acme", "--json"])["items"] as? [Any])?.count == 1, "nothing was issued or revoked")
        }
    }

    @Test func aReaderIssuedHereReadsFromARunningServeAndItsUseIsListed() throws {
        try TurnupDatabase.with { database in
            let server = try ReceiverProcess(environment: ["DATABASE_URL": database.url])
            try server.waitUntilListening()
            #expect(try database.run(TurnupCommandTests.addAcme).status == 0)
            let issued = try database.json(["turnup", "reader", "add", "acme", "--label", "Club CRM", "--json"])
            let auth = OutboundRequest.BasicAuth(username: try #require(issued["username"] as? String), password: try #require(issued["password"] as? String))
            func call(_ method: String, _ path: String, body: String? = nil) throws -> Int {
                try OutboundHTTPClient.shared.send(OutboundRequest(
                    method: method, url: "http://127.0.0.1:\(server.port)\(path)",
                    headers: body == nil ? [] : [("Content-Type", "application/json")], body: body.map { Array($0.utf8) },
                    basicAuth: auth, totalTimeout: .seconds(10))).status
            }
            #expect(try call("GET", "/v1/lead-sources") == 200)
            #expect(try call("POST", "/v1/lead-sources", body: #"{"name": "Web"}"#) == 403)
            let list = try database.run(["turnup", "reader", "list", "acme"])
            #expect(!list.output.contains("never"), "serve recorded the use: \(list.output)")

            #expect(try database.run(["turnup", "reader", "revoke", "acme", try #require(issued["id"] as? String)]).status == 0)
            #expect(try call("GET", "/v1/lead-sources") == 401, "revoked at once, also for a running serve")
            server.signal(SIGTERM)
            #expect(try server.waitForExit() == 0)
            #expect(!server.log.contains(try #require(issued["password"] as? String)))
        }
    }

    @Test(arguments: [
        (["turnup", "--help"], ["reader"]),
        (["turnup", "reader", "--help"], ["add", "list", "revoke", "read-only", "403", "GET"]),
        (["turnup", "reader", "add", "--help"], ["<client-id>", "--label", "once", "--json"]),
        (["turnup", "reader", "list", "--help"], ["<client-id>", "LAST", "--json"]),
        (["turnup", "reader", "revoke", "--help"], ["<client-id>", "<id>", "401"]),
    ])
    func everyReaderSubcommandHasHelp(arguments: [String], expected: [String]) throws {
        let result = try Executable.run(arguments)
        #expect(result.status == 0)
        for text in expected {
            #expect(result.output.contains(text), "\(arguments.joined(separator: " ")) help lacks \(text)")
        }
    }
}
