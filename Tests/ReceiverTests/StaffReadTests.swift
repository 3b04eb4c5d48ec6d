import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// `GET /v1/staff` answered by lanes (`StaffReads`): each read decided on its own
/// credential, checked against the database beside its page on every read; the
/// reads by email of a batch in one statement, the other pages in the same round trip.
@Suite struct StaffReadTests {
    /// Staff of two clients with the same email (and a first name that tells whose
    /// it is), and one only acme has, at club-2.
    static func addStaff(_ server: TestServer) throws {
        try server.pool.withConnection { connection in
            try connection.execute("INSERT INTO staff (client_id, id, email, club_ids, first_name) VALUES ('acme', \(RecordID.make()), 'Same@example.com', '{club-1}', 'Acme')")
            try connection.execute("INSERT INTO staff (client_id, id, email, club_ids, first_name) VALUES ('acme', \(RecordID.make()), 'a2@example.com', '{club-2}', 'Acme2')")
            try connection.execute("INSERT INTO staff (client_id, id, email, club_ids, first_name) VALUES ('beta', \(RecordID.make()), 'same@example.com', '{club-1}', 'Beta')")
        }
    }

    /// One batch holding every kind of read: each gets its own answer, in order.
    @Test func everyReadOfABatchIsDecidedOnItsOwnCredential() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            let (_, gone) = try server.adminTurnUp("gone")
            try Self.addStaff(server)
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "CRM"}"#)
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            #expect(try server.admin("PATCH", "/clients/gone", json: #"{"status": "suspended"}"#).status == 200)
            let wrong = APICredentials(username: acme.username, password: "wrong")

            func read(_ credentials: APICredentials, email: String? = nil, clubId: String? = nil, limit: Int = 100, cursor: [String]? = nil) throws -> StaffRead {
                let page = Page(limit: limit, after: cursor)
                return StaffRead(
                    credential: ClientCredential(username: credentials.username, password: credentials.password)!,
                    page: page, after: try StaffAdminStore.after(page), clubId: clubId, email: email)
            }
            let reads = [
                try read(acme, email: "same@EXAMPLE.com"),                        // 0: acme's
                try read(beta, email: "same@example.com"),                        // 1: beta's, the same email
                try read(beta, email: "a2@example.com"),                          // 2: only acme has it: nothing
                try read(wrong, email: "same@example.com"),                       // 3: wrong password
                try read(APICredentials(username: "acme.nobody", password: acme.password), email: "same@example.com"),  // 4: unknown username
                try read(gone, email: "same@example.com"),                        // 5: suspended client
                try read(reader, email: "same@example.com"),                      // 6: acme's reader credential
                try read(acme),                                                   // 7: acme's list
                try read(beta),                                                   // 8: beta's list
                try read(acme, clubId: "club-2"),                                 // 9: acme's at club-2
                try read(acme, email: "same@example.com", clubId: "club-2"),      // 10: by email, not at club-2
                try read(acme, limit: 1, cursor: ["a2@example.com", UUID().uuidString]),  // 11: the page after a2
                try read(acme, email: "a2@example.com", cursor: ["same@example.com", UUID().uuidString]),  // 12: by email, before the cursor
                try read(wrong),                                                  // 13: a list, wrong password
            ]
            let outcomes = try server.pool.withConnection { try StaffReads.run(reads, on: $0) }
            #expect(outcomes.count == reads.count)
            func names(_ index: Int) throws -> [String?] { try outcomes[index].get().value.map(\.firstName) }
            func client(_ index: Int) throws -> String { try outcomes[index].get().client.get().clientId }
            func refusal(_ index: Int) throws -> String { PersonReadTests.error { try outcomes[index].get().client.get() } }

            #expect(try client(0) == "acme" && names(0) == ["Acme"])
            #expect(try client(1) == "beta" && names(1) == ["Beta"])
            #expect(try client(2) == "beta" && names(2) == [])
            #expect(try refusal(3) == "unauthenticated" && names(3) == [], "nothing handed out without a credential that passes")
            #expect(try refusal(4) == "unauthenticated" && names(4) == [])
            #expect(try refusal(5) == "suspended" && names(5) == [])
            let readerClient = try outcomes[6].get().client.get()
            #expect(readerClient.role == .reader && readerClient.readerId != nil && readerClient.clientId == "acme")
            #expect(try names(6) == ["Acme"])
            #expect(try names(7) == ["Acme2", "Acme"], "in the list's order: lower(email), id")
            #expect(try client(8) == "beta" && names(8) == ["Beta"])
            #expect(try names(9) == ["Acme2"])
            #expect(try names(10) == [])
            #expect(try names(11) == ["Acme"])
            #expect(try names(12) == [])
            #expect(try refusal(13) == "unauthenticated" && names(13) == [])
        }
    }

    /// Over HTTP, many at once (so in shared batches): each answer is its own
    /// client's; a rotation and a suspension are in force on the very next read.
    @Test func concurrentReadsGetTheirOwnClientsStaffAndCredentialChangesActAtOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            try Self.addStaff(server)
            let wrong = APICredentials(username: acme.username, password: "wrong")
            let reads = [
                ExpectedListRead(credentials: acme, path: "/v1/staff?email=same@example.com", status: 200, values: ["Acme"]),
                ExpectedListRead(credentials: beta, path: "/v1/staff?email=same@example.com", status: 200, values: ["Beta"]),
                ExpectedListRead(credentials: beta, path: "/v1/staff?email=a2@example.com", status: 200, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/staff", status: 200, values: ["Acme2", "Acme"]),
                ExpectedListRead(credentials: beta, path: "/v1/staff", status: 200, values: ["Beta"]),
                ExpectedListRead(credentials: acme, path: "/v1/staff?clubId=club-2", status: 200, values: ["Acme2"]),
                ExpectedListRead(credentials: wrong, path: "/v1/staff?email=same@example.com", status: 401, values: []),
                ExpectedListRead(credentials: wrong, path: "/v1/staff", status: 401, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/staff?limit=0", status: 400, values: []),
            ]
            #expect(try server.readConcurrently(reads, field: "firstName") == 0)

            let rotated = try server.admin("POST", "/clients/acme/credentials")
            #expect(rotated.status == 201)
            let new = APICredentials(username: try #require(rotated.string("username")), password: try #require(rotated.string("password")))
            #expect(try server.request("GET", "/v1/staff?email=same@example.com", auth: acme).status == 401, "the old credential at once")
            #expect(try server.request("GET", "/v1/staff", auth: acme).status == 401)
            #expect(try server.request("GET", "/v1/staff?email=same@example.com", auth: new).status == 200)
            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#).status == 200)
            let suspended = try server.request("GET", "/v1/staff?email=same@example.com", auth: new)
            #expect(suspended.status == 403, "suspended at once: \(suspended)")
            #expect(try server.request("GET", "/v1/staff", auth: new).status == 403)
            #expect(try server.request("GET", "/v1/staff?email=same@example.com").status == 401, "no credential at all")
            #expect(try server.request("GET", "/v1/staff?email=same@example.com", auth: beta).status == 200, "another client untouched")
        }
    }

    /// A query that cannot be read is a 400 problem, once the credential passes:
    /// a wrong or suspended credential is answered as such first, as on any `/v1` call.
    @Test func aBadQueryIsAProblemAfterTheCredential() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, gone) = try server.adminTurnUp("gone")
            #expect(try server.admin("PATCH", "/clients/gone", json: #"{"status": "suspended"}"#).status == 200)
            let long = String(repeating: "a", count: 250) + "@example.com"
            for query in ["?limit=0", "?limit=501", "?limit=ten", "?cursor=not-a-cursor", "?email=\(long)", "?clubId=", "?clubId=%C2%B0%3C%0B", "?clubId=-club", "?email="] {
                let response = try server.request("GET", "/v1/staff\(query)", auth: acme)
                #expect(response.status == 400, "\(query): \(response)")
                #expect(response.header("Content-Type") == "application/problem+json", "\(query)")
                #expect(try server.request("GET", "/v1/staff\(query)", auth: APICredentials(username: acme.username, password: "wrong")).status == 401)
                #expect(try server.request("GET", "/v1/staff\(query)", auth: gone).status == 403)
            }
            let limit = try server.request("GET", "/v1/staff?limit=0", auth: acme)
            #expect(limit.string("detail")?.contains("limit") == true, "\(limit)")
            // A cursor of the staff list that names no id of ours.
            let foreign = Page.encode(["a@example.com", "not-a-uuid"])
            #expect(try server.request("GET", "/v1/staff?cursor=\(foreign)", auth: acme).status == 400)
        }
    }

    /// A username with a NUL byte cannot have been issued (and cannot be sent to
    /// PostgreSQL): refused as unknown, before any lane, so that it fails no
    /// other read of the batch it would have joined.
    @Test func aUsernameWithANulByteIs401() throws {
        #expect(ClientCredential(username: "acme\u{0}.x", password: "p") == nil)
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let token = Data("\(acme.username)\u{0}:\(acme.password)".utf8).base64EncodedString()
            for path in ["/v1/staff?email=a@example.com", "/v1/staff", "/v1/prospects", "/v1/prospects/\(UUID().uuidString)"] {
                let response = try server.request("GET", path, headers: [("Authorization", "Basic \(token)")])
                #expect(response.status == 401, "\(path): \(response)")
                #expect(try server.request("GET", path, auth: acme).status != 401)
            }
        }
    }

    /// Without lanes (`--save-lanes 0`) the same reads run on a worker each, alone,
    /// with the same answers.
    @Test func withoutLanesTheSameReadsAnswerTheSame() throws {
        try TestServer.run(service: ReceiverService.Configuration(saveLanes: 0)) { server in
            let acme = try server.turnUp("acme")
            let beta = try server.turnUp("beta")
            try Self.addStaff(server)
            #expect(try server.request("POST", "/v1/prospects", json: PersonListReadTests.prospect("a-1"), auth: acme).status == 201)
            let wrong = APICredentials(username: acme.username, password: "wrong")
            let reads = [
                ExpectedListRead(credentials: acme, path: "/v1/staff?email=same@example.com", status: 200, values: ["Acme"]),
                ExpectedListRead(credentials: beta, path: "/v1/staff?email=same@example.com", status: 200, values: ["Beta"]),
                ExpectedListRead(credentials: acme, path: "/v1/staff", status: 200, values: ["Acme2", "Acme"]),
                ExpectedListRead(credentials: wrong, path: "/v1/staff", status: 401, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/staff?limit=0", status: 400, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/prospects", status: 200, values: ["a-1"]),
                ExpectedListRead(credentials: beta, path: "/v1/prospects", status: 200, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/prospects?cursor=not-a-cursor", status: 400, values: []),
            ]
            #expect(try server.readConcurrently(reads.filter { $0.path.hasPrefix("/v1/staff") }, field: "firstName", threads: 2, rounds: 5) == 0)
            #expect(try server.readConcurrently(reads.filter { $0.path.hasPrefix("/v1/prospects") }, field: "externalId", threads: 2, rounds: 3) == 0)
        }
    }

    @Test func anUnreachableDatabaseIs503() throws {
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        try TestServer.run(database: unreachable) { server in
            let credentials = APICredentials(username: "acme.x", password: "p")
            for path in ["/v1/staff?email=a@example.com", "/v1/staff", "/v1/staff?limit=0", "/v1/prospects", "/v1/members?clubId=club-1"] {
                let read = try server.request("GET", path, auth: credentials)
                #expect(read.status == 503, "\(path): \(read)")
                #expect(read.header("Retry-After") == "2")
                #expect(read.string("type") == "urn:connector-receiver:problem:database-unavailable")
            }
        }
    }
}

