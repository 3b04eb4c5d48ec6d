import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// `GET /v1/prospects` and `/v1/members` answered by lanes (`PersonListReads`):
/// the pages of a batch with the same filters in one statement, with each one's
/// credential check, the batch's statements in one pipeline, each page decided
/// on its own credential.
@Suite struct PersonListReadTests {
    static func prospect(_ externalId: String, club: String = "club-1") -> String {
        #"{"clubId": "\#(club)", "externalId": "\#(externalId)", "firstName": "Zoë", "lastName": "Ng"}"#
    }

    /// One batch holding every kind of page: each gets its own answer, in order;
    /// a page whose statement the server refuses fails alone.
    @Test func everyPageOfABatchIsDecidedOnItsOwnCredential() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            let (_, gone) = try server.adminTurnUp("gone")
            for (credentials, externalId, club) in [(acme, "a-1", "club-1"), (acme, "a-2", "club-2"), (acme, "a-3", "club-1"), (beta, "b-1", "club-1"), (gone, "g-1", "club-1")] {
                #expect(try server.request("POST", "/v1/prospects", json: Self.prospect(externalId, club: club), auth: credentials).status == 201)
            }
            #expect(try server.admin("PATCH", "/clients/gone", json: #"{"status": "suspended"}"#).status == 200)

            func read(_ credentials: APICredentials, _ filter: PersonListFilter = PersonListFilter(), limit: Int = 100, cursor: [String]? = nil) throws -> PersonListRead {
                try PersonListRead(
                    credential: ClientCredential(username: credentials.username, password: credentials.password)!,
                    filter: filter, page: Page(limit: limit, after: cursor))
            }
            let reads = [
                try read(acme),                                                               // 0: acme's, in order
                try read(beta),                                                               // 1: beta's only
                try read(APICredentials(username: acme.username, password: "wrong")),         // 2: wrong password
                try read(gone),                                                               // 3: suspended
                try read(acme, PersonListFilter(clubId: "club-2")),                           // 4: a filter
                try read(acme, PersonListFilter(updatedSince: Date(timeIntervalSince1970: -1e12))),  // 5: a time the server refuses
                try read(acme, limit: 1),                                                     // 6: one, and one more to tell a next page
                try read(beta, PersonListFilter(externalId: "a-1")),                          // 7: acme's external id: nothing of beta's
                try read(beta, PersonListFilter(updatedSince: Date(timeIntervalSince1970: 0))),  // 8: 5's statement, which fails: read again alone
                try read(acme, PersonListFilter(externalId: "a-3")),                          // 9: 7's statement, acme's
            ]
            let outcomes = try server.pool.withConnection { try PersonListReads<Prospect>.run(reads, on: $0) }
            #expect(outcomes.count == reads.count)
            func ids(_ index: Int) throws -> [String?] { try outcomes[index].get().value.map(\.person.externalId) }
            func refusal(_ index: Int) throws -> String { PersonReadTests.error { try outcomes[index].get().client.get() } }

            #expect(try outcomes[0].get().client.get().clientId == "acme")
            #expect(try ids(0) == ["a-1", "a-2", "a-3"], "by updatedAt, then id")
            #expect(try outcomes[1].get().client.get().clientId == "beta")
            #expect(try ids(1) == ["b-1"])
            #expect(try refusal(2) == "unauthenticated" && ids(2) == [])
            #expect(try refusal(3) == "suspended" && ids(3) == [])
            #expect(try ids(4) == ["a-2"])
            guard case .failure(let refused) = outcomes[5] else { Issue.record("\(outcomes[5])"); return }
            #expect(refused.kind == .server)
            #expect(try ids(6) == ["a-1", "a-2"])
            #expect(try ids(7) == [])
            #expect(try outcomes[8].get().client.get().clientId == "beta")
            #expect(try ids(8) == ["b-1"])
            #expect(try ids(9) == ["a-3"])
        }
    }

    /// Over HTTP, many at once (so in shared batches): each page is its own
    /// client's; a rotation and a suspension are in force on the very next page.
    @Test func concurrentPagesAreTheirOwnClientsAndCredentialChangesActAtOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            for (credentials, externalId) in [(acme, "a-1"), (acme, "a-2"), (beta, "b-1")] {
                #expect(try server.request("POST", "/v1/prospects", json: Self.prospect(externalId), auth: credentials).status == 201)
            }
            let member = #"{"clubId": "club-1", "externalId": "m-1", "firstName": "Kai", "lastName": "Lee", "memberNumber": "A1"}"#
            #expect(try server.request("POST", "/v1/members", json: member, auth: beta).status == 201)
            let wrong = APICredentials(username: acme.username, password: "wrong")
            let reads = [
                ExpectedListRead(credentials: acme, path: "/v1/prospects", status: 200, values: ["a-1", "a-2"]),
                ExpectedListRead(credentials: beta, path: "/v1/prospects", status: 200, values: ["b-1"]),
                ExpectedListRead(credentials: acme, path: "/v1/prospects?externalId=b-1", status: 200, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/members", status: 200, values: []),
                ExpectedListRead(credentials: beta, path: "/v1/members", status: 200, values: ["m-1"]),
                ExpectedListRead(credentials: wrong, path: "/v1/prospects", status: 401, values: []),
                ExpectedListRead(credentials: acme, path: "/v1/prospects?updatedSince=yesterday", status: 400, values: []),
            ]
            #expect(try server.readConcurrently(reads, field: "externalId") == 0)
            #expect(try server.externalIds("prospects", "", auth: acme) == ["a-1", "a-2"], "paged by the cursor, two a page")

            let rotated = try server.admin("POST", "/clients/acme/credentials")
            let new = APICredentials(username: try #require(rotated.string("username")), password: try #require(rotated.string("password")))
            #expect(try server.request("GET", "/v1/prospects", auth: acme).status == 401, "the old credential at once")
            #expect(try server.request("GET", "/v1/prospects", auth: new).status == 200)
            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#).status == 200)
            #expect(try server.request("GET", "/v1/prospects", auth: new).status == 403, "suspended at once")
            #expect(try server.request("GET", "/v1/members", auth: new).status == 403)
            #expect(try server.request("GET", "/v1/prospects").status == 401, "no credential at all")
        }
    }

    /// A query that cannot be read is a 400 problem once the credential passes;
    /// a wrong credential is answered as such first.
    @Test func aBadQueryIsAProblemAfterTheCredential() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let wrong = APICredentials(username: acme.username, password: "wrong")
            for query in ["?limit=0", "?cursor=not-a-cursor", "?updatedSince=yesterday", "?includeDisabledClubs=yes", "?clubId=", "?clubId=club%201", "?clubId=%C2%B0%3C%0B",
                          "?cursor=\(Page.encode(["soon", UUID().uuidString]))", "?cursor=\(Page.encode([String(Int.max), UUID().uuidString]))",
                          "?cursor=\(Page.encode(["-62135596800000001", UUID().uuidString]))"] {
                for path in ["/v1/prospects", "/v1/members"] {
                    let response = try server.request("GET", path + query, auth: acme)
                    #expect(response.status == 400, "\(path)\(query): \(response)")
                    #expect(response.header("Content-Type") == "application/problem+json")
                    #expect(try server.request("GET", path + query, auth: wrong).status == 401, "\(path)\(query)")
                }
            }
            // The first and last microseconds of the years a cursor may name are read.
            for micros in [PersonListRead.microsRange.lowerBound, PersonListRead.microsRange.upperBound] {
                let response = try server.request("GET", "/v1/prospects?cursor=\(Page.encode([String(micros), UUID().uuidString]))", auth: acme)
                #expect(response.status == 200, "\(micros): \(response)")
            }
        }
    }
}
