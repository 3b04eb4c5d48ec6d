import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The admin token: on, off, wrong, missing.
@Suite struct AdminAuthTests {
    @Test func everyAdminPathAnswers404WhenNoTokenIsConfigured() throws {
        try TestServer.run { server in
            for (method, path) in [
                ("GET", ""), ("GET", "/clients"), ("POST", "/clients"), ("GET", "/clients/acme"),
                ("PATCH", "/clients/acme"), ("PUT", "/clients/acme/clubs/club-1"), ("POST", "/clients/acme/credentials"),
                ("DELETE", "/clients/acme/staff/kim@example.com"), ("POST", "/clients/acme/verify"), ("GET", "/anything/else"),
            ] {
                let response = try server.admin(method, path, json: method == "GET" ? nil : "{}")
                #expect(response.status == 404, "\(method) \(path): \(response)")
                #expect(response.string("type")?.hasSuffix("admin-api-off") == true, "\(method) \(path): \(response)")
                #expect(response.string("detail")?.contains("RECEIVER_ADMIN_TOKEN") == true)
                #expect(response.header("Content-Type") == "application/problem+json")
            }
            // Nothing was created behind the 404.
            #expect(try server.pool.withConnection { try ClientStore.find("acme", on: $0) } == nil)
        }
    }

    @Test func aMissingOrWrongTokenIs401WithTheBearerChallenge() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let missing = try server.admin("GET", "/clients", token: nil)
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate") == #"Bearer realm="connector-receiver-admin""#)
            #expect(missing.header("Content-Type") == "application/problem+json")

            for token in ["wrong-token-of-some-length", String(TestServer.adminToken.dropLast()), TestServer.adminToken + "x", ""] {
                let wrong = try server.admin("GET", "/clients", token: token)
                #expect(wrong.status == 401, "token \(token)")
                #expect(wrong.header("WWW-Authenticate") == #"Bearer realm="connector-receiver-admin""#)
            }
            let basic = try server.request("GET", "/admin/v1/clients", auth: APICredentials(username: "admin", password: TestServer.adminToken))
            #expect(basic.status == 401)

            // Checked before anything else: a write without the token changes nothing.
            #expect(try server.admin("POST", "/clients", json: #"{"clientId": "acme"}"#, token: "nope-nope-nope-nope").status == 401)
            #expect(try server.admin("GET", "/clients/acme").status == 404)

            let right = try server.admin("GET", "/clients", headers: [])
            #expect(right.status == 200, "\(right)")
            let lowerCaseScheme = try server.request("GET", "/admin/v1/clients", headers: [("Authorization", "bearer \(TestServer.adminToken)")])
            #expect(lowerCaseScheme.status == 200, "RFC 9110 §11.1: the scheme is case-insensitive")
        }
    }

    @Test func aClientCredentialDoesNotOpenTheAdminAPI() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let (_, credentials) = try server.adminTurnUp("acme")
            #expect(try server.request("GET", "/admin/v1/clients", auth: credentials).status == 401)
            #expect(try server.request("GET", "/v1/lead-sources", headers: [("Authorization", "Bearer \(TestServer.adminToken)")]).status == 401)
        }
    }

    @Test func shortOrMalformedTokensAreRefused() {
        #expect(throws: AdminTokenError.self) { try AdminAuthenticator(token: "short") }
        #expect(throws: AdminTokenError.self) { try AdminAuthenticator(token: "has a space in the middle") }
        #expect(throws: AdminTokenError.self) { try AdminAuthenticator(token: "line\nbreak-in-the-token") }
        #expect(throws: Never.self) { try AdminAuthenticator(token: "0123456789abcdef") }
    }
}
