import Foundation
import Postgres
import Synchronization
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct ProspectTests {
    static let zoe = #"{"clubId": "club-1", "firstName": "Zoë", "lastName": "Ng", "email": "zoe@example.com", "phones": {"mobile": "+1 555 010 2000"}}"#

    @Test func createsGetsAndRejectsADuplicateExternalId() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let body = #"{"clubId": "club-1", "externalId": "ext-1", "firstName": "Zoë", "address": {"country": "GB"}}"#
            let created = try server.request("POST", "/v1/prospects", json: body, auth: auth)
            #expect(created.status == 201, "\(created)")
            let id = try #require(created.string("id"))
            #expect(created.header("Location") == "/v1/prospects/\(id)")
            #expect(created.header("ETag") == "\"1\"")
            #expect(created.string("status") == "open")
            #expect(created["memberId"] == .null)
            #expect(created["staffOwnerId"] == .null)
            #expect(created["address"]?.objectValue?["country"] == .string("GB"))
            #expect(created["address"]?.objectValue?["city"] == .null)

            let fetched = try server.request("GET", "/v1/prospects/\(id)", auth: auth)
            #expect(fetched.status == 200)
            #expect(fetched.json == created.json)

            let duplicate = try server.request("POST", "/v1/prospects", json: body, auth: auth)
            #expect(duplicate.status == 409)
            #expect(duplicate.string("existingId") == id)

            #expect(try server.request("GET", "/v1/prospects/00000000-0000-7000-8000-000000000000", auth: auth).status == 404)
            #expect(try server.request("GET", "/v1/prospects/not-a-uuid", auth: auth).status == 404)
        }
    }

    @Test func mergePatchUpdatesOnlyWhatChangesAndHonoursIfMatch() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let created = try server.request("POST", "/v1/prospects", json: Self.zoe, auth: auth)
            let id = try #require(created.string("id"))

            let patched = try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "called", "phones": {"mobile": null, "home": "555 0100"}}"#,
                                             auth: auth, contentType: "application/merge-patch+json")
            #expect(patched.status == 200, "\(patched)")
            #expect(patched["version"] == .number(2))
            #expect(patched.string("notes") == "called")
            #expect(patched["phones"]?.objectValue?["mobile"] == .null)
            #expect(patched["phones"]?.objectValue?["home"] == .string("555 0100"))
            #expect(patched.string("email") == "zoe@example.com")
            #expect(patched.header("ETag") == "\"2\"")

            let same = try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "called"}"#, auth: auth)
            #expect(same["version"] == .number(2))

            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "x"}"#, headers: [("If-Match", "\"1\"")], auth: auth).status == 412)
            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "x"}"#, headers: [("If-Match", "\"2\"")], auth: auth).status == 200)

            let invalid = try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"firstName": null, "lastName": null, "gender": "x"}"#, auth: auth)
            #expect(invalid.status == 422)
            #expect(invalid.errorFields == ["firstName", "gender"])
        }
    }

    @Test func saveCreatesThenUpdatesAndRepeatsWithoutChange() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme", options: { var o = ClientOptions(); o.smartMatch = false; return o }())
            let body = #"{"clubId": "club-1", "lastName": "Ng", "externalId": "ignored-in-body"}"#
            let created = try server.request("PUT", "/v1/prospects/by-external-id/crm-42", json: body, auth: auth)
            #expect(created.status == 201, "\(created)")
            #expect(created.string("externalId") == "crm-42")
            let again = try server.request("PUT", "/v1/prospects/by-external-id/crm-42", json: body, auth: auth)
            #expect(again.status == 200)
            #expect(again["version"] == .number(1))
            #expect(again.string("id") == created.string("id"))
            let changed = try server.request("PUT", "/v1/prospects/by-external-id/crm-42", json: #"{"clubId": "club-2", "lastName": "Ng"}"#, auth: auth)
            #expect(changed["version"] == .number(2))
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-42", json: body, headers: [("If-Match", "\"1\"")], auth: auth).status == 412)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/new-one", json: body, headers: [("If-Match", "\"1\"")], auth: auth).status == 412)

            // An external id is trimmed like every field, for the lookup as for the record.
            let padded = try server.request("PUT", "/v1/prospects/by-external-id/%20crm-42%20", json: body, auth: auth)
            #expect(padded.status == 200, "\(padded)")
            #expect(padded.string("id") == created.string("id"))
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/%20", json: body, auth: auth).status == 422)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/a%0Bb", json: body, auth: auth).status == 422)
        }
    }

    @Test func concurrentSavesOfOneNewExternalIdCreateOneRecord() throws {
        try TestServer.run(poolSize: 16) { server in
            let auth = try server.turnUp("acme")
            let statuses = Mutex<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 32) { _ in
                let status = (try? server.request("PUT", "/v1/prospects/by-external-id/race-1", json: Self.zoe, auth: auth).status) ?? -1
                statuses.withLock { $0.append(status) }
            }
            let all = statuses.withLock { $0 }
            #expect(all.filter { $0 == 201 }.count == 1, "\(all)")
            #expect(all.filter { $0 == 200 }.count == 31, "\(all)")
            let count = try server.pool.withConnection { connection in
                try connection.query("SELECT count(*)::int8 FROM prospects WHERE external_id = 'race-1'").first!.decode(0, as: Int.self)
            }
            #expect(count == 1)
            let record = try server.request("GET", "/v1/prospects?externalId=race-1", auth: auth)
            #expect(record["items"].flatMap { if case .array(let items) = $0 { items.first?.objectValue?["version"] } else { nil } } == .number(1))
        }
    }

    @Test func smartMatchingAdoptsExactlyOneRecordWithoutAnExternalId() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            // Created by a club system without an external id.
            let existing = try server.request("POST", "/v1/prospects", json: Self.zoe, auth: auth)
            let saved = try server.request("PUT", "/v1/prospects/by-external-id/crm-7",
                                           json: #"{"clubId": "club-1", "firstName": "ZOË", "lastName": "ng", "email": "ZOE@example.com", "phones": {"mobile": "(1) 555-010-2000"}}"#, auth: auth)
            #expect(saved.status == 200, "\(saved)")
            #expect(saved.string("id") == existing.string("id"))
            #expect(saved.string("externalId") == "crm-7")

            // Two candidates matching by name + mobile only: ambiguous, so a new record.
            _ = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "firstName": "Al", "lastName": "Bo", "phones": {"mobile": "555 1"}}"#, auth: auth)
            _ = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "firstName": "Al", "lastName": "Bo", "phones": {"mobile": "5551"}}"#, auth: auth)
            let ambiguous = try server.request("PUT", "/v1/prospects/by-external-id/crm-8", json: #"{"clubId": "club-1", "firstName": "al", "lastName": "bo", "phones": {"mobile": "555-1"}}"#, auth: auth)
            #expect(ambiguous.status == 201)

            // With smartMatch off, never adopted.
            let strict = try server.turnUp("strict", options: { var o = ClientOptions(); o.smartMatch = false; return o }())
            _ = try server.request("POST", "/v1/prospects", json: Self.zoe, auth: strict)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-7", json: Self.zoe, auth: strict).status == 201)
        }
    }

    @Test func smartMatchingRulesApplyInOrder() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            func create(_ email: String?, _ mobile: String?) throws -> String? {
                var fields = [#""clubId": "club-1""#, #""firstName": "Kai""#, #""lastName": "Ito""#]
                if let email { fields.append(#""email": "\#(email)""#) }
                if let mobile { fields.append(#""phones": {"mobile": "\#(mobile)"}"#) }
                return try server.request("POST", "/v1/prospects", json: "{\(fields.joined(separator: ", "))}", auth: auth).string("id")
            }
            func save(_ externalId: String) throws -> APIResponse {
                try server.request("PUT", "/v1/prospects/by-external-id/\(externalId)",
                                   json: #"{"clubId": "club-1", "firstName": "kai", "lastName": "ito", "email": "kai@example.com", "phones": {"mobile": "555 77"}}"#, auth: auth)
            }
            // Email and mobile beats email alone and mobile alone.
            let emailOnly = try create("kai@example.com", "555 00")
            _ = try create("other@example.com", "55577")
            let both = try create("KAI@example.com", "5-5-5-7-7")
            #expect(try save("a").string("id") == both)
            // The email-and-mobile match is taken; one email match is left: adopted.
            #expect(try save("b").string("id") == emailOnly)
            // Two email matches: ambiguous, even with a single mobile match beside them.
            _ = try create("kai@example.com", nil)
            _ = try create("kai@example.com", nil)
            #expect(try save("c").status == 201)
            // Mobile alone decides when nothing matches on email (another client, a clean slate).
            let onlyMobile = try server.turnUp("mobile-only")
            let mobileRecord = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "firstName": "Kai", "lastName": "Ito", "phones": {"mobile": "555-77"}}"#, auth: onlyMobile).string("id")
            let adopted = try server.request("PUT", "/v1/prospects/by-external-id/d",
                                             json: #"{"clubId": "club-1", "firstName": "kai", "lastName": "ito", "email": "kai@example.com", "phones": {"mobile": "55577"}}"#, auth: onlyMobile)
            #expect(adopted.string("id") == mobileRecord)
        }
    }

    @Test func resolvesTheStaffOwnerByEmailAndKeepsUnknownOwners() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let staffId = RecordID.make()
            _ = try server.pool.withConnection { connection in
                try connection.execute("INSERT INTO staff (client_id, id, email) VALUES ('acme', \(staffId), 'Coach@Example.com')")
            }
            let owned = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "lastName": "A", "staffOwnerEmail": "coach@example.com"}"#, auth: auth)
            #expect(owned.string("staffOwnerId") == staffId.lowercasedString)
            let unknown = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "lastName": "B", "staffOwnerEmail": "nobody@example.com"}"#, auth: auth)
            #expect(unknown.status == 201)
            #expect(unknown["staffOwnerId"] == .null)
            #expect(unknown.string("staffOwnerEmail") == "nobody@example.com")
        }
    }

    @Test func rejectsClubsAndLeadSourcesThatAreNotTheCallers() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let other = try server.turnUp("other", clubs: [("other-club", "Elsewhere", true)])
            let foreignSource = try #require(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Theirs"}"#, auth: other).string("id"))

            let wrongClub = try server.request("POST", "/v1/prospects", json: #"{"clubId": "other-club", "lastName": "A"}"#, auth: auth)
            #expect(wrongClub.status == 422)
            #expect(wrongClub.errorFields == ["clubId"])
            let wrongSource = try server.request("POST", "/v1/prospects", json: #"{"clubId": "club-1", "lastName": "A", "leadSourceId": "\#(foreignSource)"}"#, auth: auth)
            #expect(wrongSource.status == 422)
            #expect(wrongSource.errorFields == ["leadSourceId"])

            _ = try server.pool.withConnection { try $0.execute("UPDATE clubs SET enabled = false WHERE client_id = 'acme' AND club_id = 'club-2'") }
            let disabled = try server.request("PUT", "/v1/prospects/by-external-id/x", json: #"{"clubId": "club-2", "lastName": "A"}"#, auth: auth)
            #expect(disabled.status == 422)
            #expect(disabled.errorFields == ["clubId"])
            let count = try server.pool.withConnection { try $0.query("SELECT count(*)::int8 FROM prospects").first!.decode(0, as: Int.self) }
            #expect(count == 0, "rejected writes change nothing")
        }
    }

    @Test func recordsRejectedWritesAsSyncErrorsUntilASuccessfulWriteResolvesThem() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-9", json: #"{"clubId": "club-1", "email": "bad"}"#, auth: auth).status == 422)
            let open = { try server.pool.withConnection { connection in
                try connection.query("SELECT external_id, operation FROM sync_errors WHERE resolved_at IS NULL").map { try $0.decode((String?, String).self) }
            } }
            let errors = try open()
            #expect(errors.count == 1)
            #expect(errors.first?.0 == "crm-9")
            #expect(errors.first?.1 == "PUT /v1/prospects/by-external-id/{externalId}")
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/crm-9", json: #"{"clubId": "club-1", "lastName": "Fixed"}"#, auth: auth).status == 201)
            #expect(try open().isEmpty)
            // 401 and 404 are not sync errors.
            _ = try server.request("PATCH", "/v1/prospects/00000000-0000-7000-8000-000000000000", json: "{}", auth: auth)
            #expect(try open().isEmpty)
        }
    }

    @Test func listsWithFiltersPagesAndHidesDisabledClubs() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let other = try server.turnUp("other")
            for index in 0..<5 {
                let club = index < 3 ? "club-1" : "club-2"
                _ = try server.request("PUT", "/v1/prospects/by-external-id/p\(index)", json: #"{"clubId": "\#(club)", "lastName": "L\#(index)", "email": "p\#(index)@example.com"}"#, auth: auth)
            }
            _ = try server.request("PUT", "/v1/prospects/by-external-id/theirs", json: #"{"clubId": "club-1", "lastName": "T"}"#, auth: other)

            func externalIds(_ query: String) throws -> [String] { try server.externalIds("prospects", query, auth: auth) }
            #expect(try externalIds("x=1") == ["p0", "p1", "p2", "p3", "p4"])
            #expect(try externalIds("clubId=club-2") == ["p3", "p4"])
            #expect(try externalIds("email=P1@EXAMPLE.COM") == ["p1"])
            #expect(try externalIds("externalId=p4") == ["p4"])
            #expect(try externalIds("updatedSince=2999-01-01T00:00:00Z") == [])

            _ = try server.pool.withConnection { try $0.execute("UPDATE clubs SET enabled = false WHERE client_id = 'acme' AND club_id = 'club-2'") }
            #expect(try externalIds("x=1") == ["p0", "p1", "p2"])
            #expect(try externalIds("includeDisabledClubs=true") == ["p0", "p1", "p2", "p3", "p4"])
            #expect(try server.request("GET", "/v1/prospects?updatedSince=yesterday", auth: auth).status == 400)
            #expect(try server.request("GET", "/v1/prospects?includeDisabledClubs=yes", auth: auth).status == 400)
        }
    }

    @Test func otherClientsRecordsAreNotFound() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let other = try server.turnUp("other")
            let id = try #require(try server.request("POST", "/v1/prospects", json: Self.zoe, auth: acme).string("id"))
            #expect(try server.request("GET", "/v1/prospects/\(id)", auth: other).status == 404)
            #expect(try server.request("PATCH", "/v1/prospects/\(id)", json: #"{"notes": "x"}"#, auth: other).status == 404)
            #expect(try server.request("POST", "/v1/prospects/\(id)/convert", json: "{}", auth: other).status == 404)
            // The same external id is free for another client.
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/shared", json: #"{"clubId": "club-1", "lastName": "Mine"}"#, auth: acme).status == 201)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/shared", json: #"{"clubId": "club-1", "lastName": "Other"}"#, auth: other).status == 201)
        }
    }
}
