import Foundation
import Postgres
import Synchronization
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct MemberTests {
    @Test func createsSavesPatchesAndListsMembers() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let body = #"{"clubId": "club-1", "firstName": "Ann", "memberNumber": "M-1", "membershipStatus": "active", "joinDate": "2026-01-31"}"#
            let saved = try server.request("PUT", "/v1/members/by-external-id/m-1", json: body, auth: auth)
            #expect(saved.status == 201, "\(saved)")
            #expect(saved.string("joinDate") == "2026-01-31")
            #expect(saved["prospectId"] == .null)
            #expect(saved["status"] == nil, "members have no prospect status")
            #expect(try server.request("PUT", "/v1/members/by-external-id/m-1", json: body, auth: auth)["version"] == .number(1))
            let id = try #require(saved.string("id"))
            let frozen = try server.request("PATCH", "/v1/members/\(id)", json: #"{"membershipStatus": "frozen"}"#, auth: auth)
            #expect(frozen["version"] == .number(2))
            let invalid = try server.request("PATCH", "/v1/members/\(id)", json: #"{"expiryDate": "2025-12-31"}"#, auth: auth)
            #expect(invalid.status == 422)
            #expect(invalid.errorFields == ["expiryDate"])
            let list = try server.request("GET", "/v1/members?clubId=club-1", auth: auth)
            guard case .array(let items)? = list["items"] else { Issue.record("\(list)"); return }
            #expect(items.count == 1)
            // Prospects and members are separate: the same external id may name one of each.
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/m-1", json: body, auth: auth).status == 201)
        }
    }

    @Test func convertsAProspectOnceInOneTransaction() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let prospect = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-2", "externalId": "p-1", "firstName": "Zoë", "lastName": "Ng", "email": "zoe@example.com"}"#, auth: auth)
            let prospectId = try #require(prospect.string("id"))

            let converted = try server.request("POST", "/v1/prospects/\(prospectId)/convert", json: #"{"externalId": "m-9", "memberNumber": "A1", "membershipStatus": "active"}"#, auth: auth)
            #expect(converted.status == 201, "\(converted)")
            let memberId = try #require(converted.string("id"))
            #expect(converted.header("Location") == "/v1/members/\(memberId)")
            #expect(converted.string("prospectId") == prospectId)
            #expect(converted.string("clubId") == "club-2", "person fields default from the prospect")
            #expect(converted.string("email") == "zoe@example.com")
            #expect(converted.string("externalId") == "m-9")

            let after = try server.request("GET", "/v1/prospects/\(prospectId)", auth: auth)
            #expect(after.string("status") == "converted")
            #expect(after.string("memberId") == memberId)
            #expect(after["version"] == .number(2))

            let twice = try server.request("POST", "/v1/prospects/\(prospectId)/convert", json: "{}", auth: auth)
            #expect(twice.status == 409)
            #expect(twice.string("existingId") == memberId)
        }
    }

    @Test func aFailedConversionChangesNothing() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            _ = try server.request("PUT", "/v1/members/by-external-id/taken", json: #"{"clubId": "club-1", "lastName": "A"}"#, auth: auth)
            let prospectId = try #require(try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "lastName": "B"}"#, auth: auth).string("id"))
            let conflict = try server.request("POST", "/v1/prospects/\(prospectId)/convert", json: #"{"externalId": "taken"}"#, auth: auth)
            #expect(conflict.status == 409)
            let invalid = try server.request("POST", "/v1/prospects/\(prospectId)/convert", json: #"{"membershipStatus": "gold"}"#, auth: auth)
            #expect(invalid.status == 422)
            let prospect = try server.request("GET", "/v1/prospects/\(prospectId)", auth: auth)
            #expect(prospect.string("status") == "open")
            #expect(prospect["memberId"] == .null)
            let members = try server.pool.withConnection { try $0.query("SELECT count(*)::int8 FROM members").first!.decode(0, as: Int.self) }
            #expect(members == 1)
        }
    }

    @Test func concurrentConversionsWithOneIdempotencyKeyCreateOneMember() throws {
        try TestServer.run(poolSize: 12) { server in
            let auth = try server.turnUp("acme")
            let prospectId = try #require(try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "lastName": "B"}"#, auth: auth).string("id"))
            let responses = Mutex<[APIResponse]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                if let response = try? server.request("POST", "/v1/prospects/\(prospectId)/convert", json: "{}", headers: [("Idempotency-Key", "convert-once")], auth: auth) {
                    responses.withLock { $0.append(response) }
                }
            }
            let all = responses.withLock { $0 }
            #expect(all.count == 8)
            #expect(all.allSatisfy { $0.status == 201 }, "\(all.map(\.status))")
            #expect(Set(all.compactMap { $0.string("id") }).count == 1)
            let members = try server.pool.withConnection { try $0.query("SELECT count(*)::int8 FROM members").first!.decode(0, as: Int.self) }
            #expect(members == 1)
        }
    }
}

@Suite struct StaffListTests {
    @Test func listsStaffWithEmailsFilteredByClubAndEmail() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let other = try server.turnUp("other")
            try server.pool.withConnection { connection in
                try connection.execute("INSERT INTO staff (client_id, id, email, club_ids) VALUES ('acme', \(RecordID.make()), 'b@example.com', '{club-1}')")
                try connection.execute("INSERT INTO staff (client_id, id, email, club_ids, first_name) VALUES ('acme', \(RecordID.make()), 'A@example.com', '{club-1,club-2}', 'Al')")
                try connection.execute("INSERT INTO staff (client_id, id, email) VALUES ('other', \(RecordID.make()), 'c@example.com')")
            }
            func emails(_ query: String, _ credentials: APICredentials) throws -> [String] {
                let response = try server.request("GET", "/v1/staff\(query)", auth: credentials)
                guard case .array(let items)? = response["items"] else { Issue.record("\(response)"); return [] }
                return items.compactMap { $0.objectValue?["email"]?.stringValue }
            }
            #expect(try emails("", auth) == ["A@example.com", "b@example.com"])
            #expect(try emails("?clubId=club-2", auth) == ["A@example.com"])
            #expect(try emails("?email=B@EXAMPLE.COM", auth) == ["b@example.com"])
            #expect(try emails("", other) == ["c@example.com"])
            let paged = try server.request("GET", "/v1/staff?limit=1", auth: auth)
            let cursor = try #require(paged.string("nextCursor"))
            #expect(try emails("?limit=1&cursor=\(cursor)", auth) == ["b@example.com"])
        }
    }
}
