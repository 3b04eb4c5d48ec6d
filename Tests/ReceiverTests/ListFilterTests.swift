import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// List pages filtered by club on a client with one big club and one small one:
/// the right records, in order, page after page, found through the club's index.
@Suite struct ListFilterTests {
    /// acme's big clubs, `big-1` to `big-10`, beside which the tests' clubs are small.
    static let bigClubs = (1...10).map { (clubId: "big-\($0)", name: "Big \($0)", enabled: true) }

    /// 20,000 prospects and members in acme's big clubs, at times before any the tests write.
    static func fillBigClubs(_ server: TestServer) throws {
        try server.pool.withConnection { connection in
            for table in ["prospects", "members"] {
                try connection.simpleExecute("""
                    INSERT INTO \(table) (client_id, id, external_id, club_id, last_name, created_at, updated_at)
                    SELECT 'acme', gen_random_uuid(), 'big-' || n, 'big-' || (1 + n % 10), 'Big', now() - interval '1 day',
                           now() - interval '1 day' + n * interval '1 ms'
                    FROM generate_series(1, 20000) n;
                    ANALYZE \(table)
                    """)
            }
        }
    }

    @Test(arguments: ["prospects", "members"])
    func aSmallClubsPagesHoldItsRecordsInOrderWithEveryOtherFilter(_ path: String) throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme", clubs: Self.bigClubs + [("club-2", "Small", true), ("club-3", "Off", false)])
            let other = try server.turnUp("other", clubs: [("club-2", "Theirs", true)])
            try Self.fillBigClubs(server)
            for index in 0..<5 {
                #expect(try server.request("PUT", "/v1/\(path)/by-external-id/s\(index)",
                                           json: #"{"clubId": "club-2", "lastName": "S\#(index)", "email": "s\#(index)@example.com"}"#, auth: acme).status == 201)
            }
            #expect(try server.request("PUT", "/v1/\(path)/by-external-id/off", json: #"{"clubId": "club-3", "lastName": "O"}"#, auth: acme).status == 422)
            _ = try server.pool.withConnection { try $0.execute("UPDATE clubs SET enabled = true WHERE client_id = 'acme' AND club_id = 'club-3'") }
            #expect(try server.request("PUT", "/v1/\(path)/by-external-id/off", json: #"{"clubId": "club-3", "lastName": "O"}"#, auth: acme).status == 201)
            _ = try server.pool.withConnection { try $0.execute("UPDATE clubs SET enabled = false WHERE client_id = 'acme' AND club_id = 'club-3'") }
            #expect(try server.request("PUT", "/v1/\(path)/by-external-id/theirs", json: #"{"clubId": "club-2", "lastName": "T"}"#, auth: other).status == 201)
            // s1 changes last: it moves to the end of the order.
            #expect(try server.request("PUT", "/v1/\(path)/by-external-id/s1", json: #"{"clubId": "club-2", "lastName": "S1 again", "email": "s1@example.com"}"#, auth: acme).status == 200)

            func externalIds(_ query: String) throws -> [String] { try server.externalIds("\(path)", query, auth: acme) }
            #expect(try externalIds("clubId=club-2") == ["s0", "s2", "s3", "s4", "s1"])
            #expect(try externalIds("clubId=club-2&email=S3@example.com") == ["s3"])
            #expect(try externalIds("clubId=club-2&externalId=s4") == ["s4"])
            #expect(try externalIds("clubId=club-2&externalId=big-4") == [])
            #expect(try externalIds("clubId=club-3") == [])
            #expect(try externalIds("clubId=club-3&includeDisabledClubs=true") == ["off"])
            #expect(try externalIds("clubId=club-9") == [])
            let since = try server.pool.withConnection {
                try $0.query("SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM \(unescaped: path) WHERE external_id = 's3'")[0].decode(0, as: String.self)
            }
            #expect(try externalIds("clubId=club-2&updatedSince=\(since)") == ["s3", "s4", "s1"])
            #expect(try externalIds("clubId=big-3&updatedSince=\(since)") == [])
        }
    }

    /// The statement of every filter combination with `clubId`, planned as a
    /// prepared statement is once it goes generic: a range of the club's index.
    @Test func aClubFilteredPageIsARangeOfTheClubsIndex() throws {
        try TestServer.run { server in
            _ = try server.turnUp("acme", clubs: Self.bigClubs + [("club-2", "Small", true)])
            try Self.fillBigClubs(server)
            let since = Date(timeIntervalSinceNow: -3600)
            let cursor = Page(limit: 100, after: ["1733400000000000", UUID().uuidString])
            let filters = [
                PersonListFilter(clubId: "club-2"),
                PersonListFilter(clubId: "club-2", updatedSince: since),
                PersonListFilter(clubId: "club-2", includeDisabledClubs: true),
            ]
            for filter in filters {
                for page in [Page(limit: 100, after: nil), cursor] {
                    for (table, query) in [("prospects", try PersonStore<Prospect>.listQuery(clientId: "acme", filter: filter, page: page)),
                                           ("members", try PersonStore<Member>.listQuery(clientId: "acme", filter: filter, page: page))] {
                        let plan = try server.pool.withTransaction { try SyncErrorTests.genericPlan(of: query, on: $0) }
                        #expect(plan.contains("using \(table)_club_updated on \(table) p"), "\(filter) \(page.after ?? []):\n\(plan)")
                        #expect(!plan.contains("Seq Scan on \(table)"), "\(plan)")
                    }
                }
            }
        }
    }
}
