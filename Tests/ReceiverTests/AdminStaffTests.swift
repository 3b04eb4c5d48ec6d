import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Staff through `/admin/v1/clients/{clientId}/staff`.
@Suite struct AdminStaffTests {
    @Test func upsertsByEmailIgnoringCase() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            let created = try server.admin("PUT", "/clients/acme/staff/kim.park@example.com",
                                           json: #"{"firstName": "Kim", "lastName": "Park", "role": "Coach", "clubIds": ["club-1", "club-2", "club-1"]}"#)
            #expect(created.status == 201, "\(created)")
            #expect(created.header("ETag") == "\"1\"")
            #expect(created.string("email") == "kim.park@example.com")
            #expect(created["clubIds"] == .array([.string("club-1"), .string("club-2")]), "duplicates are dropped")
            #expect(created["active"] == .bool(true))
            let id = try #require(created.string("id"))

            let updated = try server.admin("PUT", "/clients/acme/staff/Kim.Park@Example.com", json: #"{"firstName": "Kim", "role": "Manager", "clubIds": ["club-2"]}"#)
            #expect(updated.status == 200, "\(updated)")
            #expect(updated.string("id") == id, "the same staff member, by email ignoring case")
            #expect(updated.string("email") == "Kim.Park@Example.com", "the email takes the path's spelling")
            #expect(updated["lastName"] == .null, "full representation: left out is null")
            #expect(updated["version"] == .number(2))

            let same = try server.admin("PUT", "/clients/acme/staff/Kim.Park@Example.com", json: #"{"firstName": "Kim", "role": "Manager", "clubIds": ["club-2"]}"#)
            #expect(same.status == 200)
            #expect(same["version"] == .number(2), "an equal PUT writes nothing")
            #expect(try server.admin("PUT", "/clients/acme/staff/kim.park@example.com", json: "{}", headers: [("If-Match", "\"1\"")]).status == 412)
            #expect(try server.admin("PUT", "/clients/acme/staff/new@example.com", json: "{}", headers: [("If-Match", "\"1\"")]).status == 412)
        }
    }

    @Test func validatesEmailAndClubs() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("other", clubs: #"[{"clubId": "club-9", "name": "Elsewhere"}]"#)
            let foreign = try server.admin("PUT", "/clients/acme/staff/kim@example.com", json: #"{"clubIds": ["club-1", "club-9"]}"#)
            #expect(foreign.status == 422)
            #expect(foreign.errorFields == ["clubIds"])
            #expect(foreign.body.contains("club-9"))
            let badEmail = try server.admin("PUT", "/clients/acme/staff/not-an-email", json: #"{"firstName": 5, "active": "yes"}"#)
            #expect(badEmail.status == 422)
            #expect(badEmail.errorFields == ["email", "firstName", "active"])
            #expect(try server.admin("PUT", "/clients/nobody/staff/kim@example.com", json: "{}").status == 404)
            #expect(try server.admin("GET", "/clients/acme/staff").items.isEmpty, "nothing was written")
        }
    }

    @Test func deactivatesAndListsActiveAndInactive() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            _ = try server.adminTurnUp("acme")
            _ = try server.adminTurnUp("other")
            for email in ["zoe@example.com", "Adam@example.com", "mia@example.com"] {
                #expect(try server.admin("PUT", "/clients/acme/staff/\(email)", json: #"{"clubIds": ["club-1"]}"#).status == 201)
            }
            #expect(try server.admin("PUT", "/clients/other/staff/elsewhere@example.com", json: "{}").status == 201)

            let deactivated = try server.admin("DELETE", "/clients/acme/staff/MIA@example.com")
            #expect(deactivated.status == 200, "\(deactivated)")
            #expect(deactivated["active"] == .bool(false))
            #expect(deactivated["version"] == .number(2))
            #expect(try server.admin("DELETE", "/clients/acme/staff/mia@example.com")["version"] == .number(2), "already inactive: unchanged")
            #expect(try server.admin("DELETE", "/clients/acme/staff/nobody@example.com").status == 404)
            #expect(try server.admin("DELETE", "/clients/acme/staff/elsewhere@example.com").status == 404, "another client's staff")
            #expect(try server.admin("DELETE", "/clients/nobody/staff/mia@example.com").status == 404)

            let list = try server.admin("GET", "/clients/acme/staff")
            #expect(list.itemValues("email") == [.string("Adam@example.com"), .string("mia@example.com"), .string("zoe@example.com")])
            #expect(list.itemValues("active") == [.bool(true), .bool(false), .bool(true)])
            let first = try server.admin("GET", "/clients/acme/staff?limit=2")
            #expect(first.items.count == 2)
            let rest = try server.admin("GET", "/clients/acme/staff?limit=2&cursor=\(try #require(first.string("nextCursor")))")
            #expect(rest.itemValues("email") == [.string("zoe@example.com")])
            #expect(try server.admin("GET", "/clients/nobody/staff").status == 404)

            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.itemValues("action").last == .string("staff.deactivate"))
        }
    }
}
