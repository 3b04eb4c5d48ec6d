import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// `GET /v1/prospects/{id}` and `/v1/members/{id}` in batches (`PersonReads`):
/// each read decided on its own credential, checked against the database on
/// every read, in one statement with the reads that arrived with it.
@Suite struct PersonReadTests {
    static let prospect = #"{"clubId": "club-1", "externalId": "p-1", "firstName": "Zoë", "lastName": "Ng"}"#

    /// One batch holding every kind of read: each gets its own answer, in order.
    @Test func everyReadOfABatchIsDecidedOnItsOwnCredential() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            let (_, gone) = try server.adminTurnUp("gone")
            let acmeId = try #require(try server.request("POST", "/v1/prospects", json: Self.prospect, auth: acme).string("id"))
            let betaId = try #require(try server.request("POST", "/v1/prospects", json: Self.prospect, auth: beta).string("id"))
            let issued = try server.admin("POST", "/clients/acme/reader-credentials", json: #"{"label": "CRM"}"#)
            let reader = APICredentials(username: try #require(issued.string("username")), password: try #require(issued.string("password")))
            #expect(try server.admin("PATCH", "/clients/gone", json: #"{"status": "suspended"}"#).status == 200)

            func read(_ credentials: APICredentials, _ id: String) -> PersonRead {
                PersonRead(credential: ClientCredential(username: credentials.username, password: credentials.password)!, id: id)
            }
            let reads = [
                read(acme, acmeId),                                                  // 0: found
                read(beta, acmeId),                                                  // 1: another client's record: not found
                read(APICredentials(username: acme.username, password: "wrong"), acmeId),  // 2: wrong password
                read(APICredentials(username: "acme.nobody", password: acme.password), acmeId),  // 3: unknown username
                read(acme, "not-a-uuid"),                                            // 4: malformed id: not found
                read(APICredentials(username: acme.username, password: "wrong"), "not-a-uuid"),  // 5: the credential first
                read(gone, acmeId),                                                  // 6: suspended client
                read(reader, acmeId),                                                // 7: a reader credential
                read(beta, betaId),                                                  // 8: found
                read(acme, UUID().uuidString),                                       // 9: no such record
            ]
            let results = try server.pool.withConnection { try PersonReads<Prospect>.run(reads, on: $0) }
            #expect(results.count == reads.count)
            #expect(try results[0].client.get().clientId == "acme")
            #expect(try results[0].record().id.lowercasedString == acmeId)
            #expect(try results[1].client.get().clientId == "beta")
            #expect(Self.error { try results[1].record() } == "not found")
            #expect(Self.error { try results[2].client.get() } == "unauthenticated")
            #expect(Self.error { try results[3].client.get() } == "unauthenticated")
            #expect(results[3].found == nil, "no credential: no record read")
            #expect(Self.error { try results[4].record() } == "not found")
            #expect(Self.error { try results[5].client.get() } == "unauthenticated")
            #expect(Self.error { try results[6].client.get() } == "suspended")
            let readerClient = try results[7].client.get()
            #expect(readerClient.role == .reader && readerClient.readerId != nil && readerClient.clientId == "acme")
            #expect(try results[7].record().id.lowercasedString == acmeId)
            #expect(try results[8].record().id.lowercasedString == betaId)
            #expect(Self.error { try results[9].record() } == "not found")
        }
    }

    static func error<T>(_ body: () throws -> T) -> String {
        do {
            _ = try body()
            return "none"
        } catch let error as ReceiverError {
            switch error {
            case .notFound: return "not found"
            case .unauthenticated: return "unauthenticated"
            case .clientSuspended: return "suspended"
            default: return "\(error)"
            }
        } catch {
            return "\(error)"
        }
    }

    /// Over HTTP, many at once (so in shared batches): each answer is its own
    /// credential's; a rotation and a suspension are in force on the very next read.
    @Test func concurrentReadsGetTheirOwnAnswersAndCredentialChangesActAtOnce() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, acme) = try server.adminTurnUp("acme")
            let (_, beta) = try server.adminTurnUp("beta")
            let created = try server.request("POST", "/v1/prospects", json: Self.prospect, auth: acme)
            let acmeId = try #require(created.string("id"))
            let wrong = APICredentials(username: acme.username, password: "wrong")
            let cases: [(APICredentials, String, Int)] = [
                (acme, acmeId, 200), (beta, acmeId, 404), (wrong, acmeId, 401), (acme, "not-a-uuid", 404), (acme, UUID().uuidString, 404),
            ]
            let failures = TestCounter()
            let threads = (0..<10).map { thread in
                TestThread {
                    for round in 0..<20 {
                        let (credentials, id, status) = cases[(thread + round) % cases.count]
                        let response = try server.request("GET", "/v1/prospects/\(id)", auth: credentials)
                        let right = response.status == status
                            && (status != 200 || (response.string("id") == acmeId && response.header("ETag") == created.header("ETag")))
                            && response.header("Cache-Control") == (status == 200 ? "no-store" : response.header("Cache-Control"))
                            && (status != 401 || response.header("WWW-Authenticate") != nil)
                        if !right { failures.increment() }
                    }
                }
            }
            for thread in threads { try thread.join() }
            #expect(failures.current == 0)

            let rotated = try server.admin("POST", "/clients/acme/credentials")
            #expect(rotated.status == 201)
            let new = APICredentials(username: try #require(rotated.string("username")), password: try #require(rotated.string("password")))
            #expect(try server.request("GET", "/v1/prospects/\(acmeId)", auth: acme).status == 401, "the old credential at once")
            #expect(try server.request("GET", "/v1/prospects/\(acmeId)", auth: new).status == 200)
            #expect(try server.admin("PATCH", "/clients/acme", json: #"{"status": "suspended"}"#).status == 200)
            #expect(try server.request("GET", "/v1/prospects/\(acmeId)", auth: new).status == 403, "suspended at once")
            #expect(try server.request("GET", "/v1/prospects/\(acmeId)", auth: wrong).status == 401)
            #expect(try server.request("GET", "/v1/prospects/\(acmeId)").status == 401, "no credential at all")
        }
    }

    @Test func anUnreachableDatabaseIs503() throws {
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        try TestServer.run(database: unreachable) { server in
            let read = try server.request("GET", "/v1/prospects/\(UUID().uuidString)", auth: APICredentials(username: "acme.x", password: "p"))
            #expect(read.status == 503, "\(read)")
            #expect(read.header("Retry-After") == "2")
            #expect(read.string("type") == "urn:connector-receiver:problem:database-unavailable")
        }
    }
}
