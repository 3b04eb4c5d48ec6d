import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct LeadSourceTests {
    @Test func createsListsGetsUpdatesAndDeactivates() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let created = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web Form", "externalId": "wf"}"#, auth: auth)
            #expect(created.status == 201, "\(created)")
            let id = try #require(created.string("id"))
            #expect(created.header("Location") == "/v1/lead-sources/\(id)")
            #expect(created.header("ETag") == "\"1\"")
            #expect(created["active"] == .bool(true))

            let fetched = try server.request("GET", "/v1/lead-sources/\(id)", auth: auth)
            #expect(fetched.status == 200)
            #expect(fetched.string("name") == "Web Form")

            let renamed = try server.request("PATCH", "/v1/lead-sources/\(id)", json: #"{"name": "Website"}"#, headers: [("If-Match", "\"1\"")], auth: auth)
            #expect(renamed.status == 200, "\(renamed)")
            #expect(renamed["version"] == .number(2))
            #expect(renamed.string("externalId") == "wf")

            let unchanged = try server.request("PATCH", "/v1/lead-sources/\(id)", json: #"{"name": "Website"}"#, auth: auth)
            #expect(unchanged["version"] == .number(2), "a write that changes nothing keeps the version")

            let stale = try server.request("PATCH", "/v1/lead-sources/\(id)", json: #"{"name": "X"}"#, headers: [("If-Match", "\"1\"")], auth: auth)
            #expect(stale.status == 412)

            let deleted = try server.request("DELETE", "/v1/lead-sources/\(id)", auth: auth)
            #expect(deleted.status == 204)
            #expect(try server.request("GET", "/v1/lead-sources/\(id)", auth: auth)["active"] == .bool(false))

            let list = try server.request("GET", "/v1/lead-sources?limit=10", auth: auth)
            #expect(list.status == 200)
            guard case .array(let items)? = list["items"] else { Issue.record("no items"); return }
            #expect(items.count == 1)
            #expect(list["nextCursor"] == .null)
        }
    }

    @Test func rejectsDuplicateNamesIgnoringCase() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let first = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Referral"}"#, auth: auth)
            let duplicate = try server.request("POST", "/v1/lead-sources", json: #"{"name": "REFERRAL"}"#, auth: auth)
            #expect(duplicate.status == 409)
            #expect(duplicate.string("existingId") == first.string("id"))
            #expect(duplicate.header("Content-Type") == "application/problem+json")
        }
    }

    @Test func paginatesInAStableOrder() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            for name in ["delta", "Alpha", "charlie", "Bravo", "echo"] {
                #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "\#(name)"}"#, auth: auth).status == 201)
            }
            var names: [String] = []
            var cursor: String?
            repeat {
                let page = try server.request("GET", "/v1/lead-sources?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), auth: auth)
                #expect(page.status == 200, "\(page)")
                guard case .array(let items)? = page["items"] else { break }
                names += items.compactMap { $0.objectValue?["name"]?.stringValue }
                cursor = page.string("nextCursor")
            } while cursor != nil
            #expect(names == ["Alpha", "Bravo", "charlie", "delta", "echo"])
            #expect(try server.request("GET", "/v1/lead-sources?limit=0", auth: auth).status == 400)
            #expect(try server.request("GET", "/v1/lead-sources?limit=501", auth: auth).status == 400)
            #expect(try server.request("GET", "/v1/lead-sources?cursor=garbage", auth: auth).status == 400)
        }
    }

    @Test func authenticatesAndIsolatesTenants() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            let other = try server.turnUp("other")
            let created = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Mine"}"#, auth: acme)
            let id = try #require(created.string("id"))

            #expect(try server.request("GET", "/v1/lead-sources/\(id)", auth: other).status == 404)
            #expect(try server.request("PATCH", "/v1/lead-sources/\(id)", json: "{}", auth: other).status == 404)

            let anonymous = try server.request("GET", "/v1/lead-sources")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate") == #"Basic realm="connector-receiver""#)
            let wrong = try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: acme.username, password: "wrong"))
            #expect(wrong.status == 401)
            let crossed = try server.request("GET", "/v1/lead-sources", auth: APICredentials(username: acme.username, password: other.password))
            #expect(crossed.status == 401)
        }
    }

    @Test func validatesBodies() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let missing = try server.request("POST", "/v1/lead-sources", json: #"{"externalId": 5}"#, auth: auth)
            #expect(missing.status == 422)
            #expect(missing.errorFields == ["name", "externalId"])
            #expect(try server.request("POST", "/v1/lead-sources", json: "{", auth: auth).status == 400)
            #expect(try server.request("POST", "/v1/lead-sources", json: "[]", auth: auth).status == 400)
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "x"}"#, auth: auth, contentType: "text/plain").status == 415)
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "x"}"#, auth: auth, contentType: "application/json; charset=utf-8").status == 201)
        }
    }

    @Test func honoursIdempotencyKeys() throws {
        try TestServer.run { server in
            let auth = try server.turnUp("acme")
            let key = [("Idempotency-Key", "key-1")]
            let first = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Once"}"#, headers: key, auth: auth)
            let retry = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Once"}"#, headers: key, auth: auth)
            #expect(first.status == 201)
            #expect(retry.status == 201)
            #expect(retry.body == first.body)
            #expect(retry.header("Location") == first.header("Location"))
            let different = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Other"}"#, headers: key, auth: auth)
            #expect(different.status == 422)
            #expect(different.errorFields == ["Idempotency-Key"])
            let bad = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Other"}"#, headers: [("Idempotency-Key", "has space")], auth: auth)
            #expect(bad.status == 400)
        }
    }
}
