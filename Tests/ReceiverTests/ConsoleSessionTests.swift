import Foundation
import Postgres
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The console's sign-in: a session cookie instead of the admin token, and what
/// keeps other sites and old cookies out.
@Suite struct ConsoleSessionTests {
    @Test func signingInSetsAStrictHttpOnlyCookieAndStoresOnlyItsHash() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let browser = try ConsoleBrowser.signIn(server)
            let attributes = browser.setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("SameSite=Strict"))
            #expect(attributes.contains("Path=/admin"))
            #expect(attributes.contains("Max-Age=\(Int(AdminSessions.lifetime.components.seconds))"))
            #expect(!attributes.contains("Secure"), "served over plain HTTP here")
            #expect(browser.sessionToken.count == 43)
            #expect(browser.csrfToken.count == 64 && browser.csrfToken != browser.sessionToken)

            let stored = try server.pool.withConnection { try $0.query("SELECT token_hash FROM admin_sessions").map { try $0.decode("token_hash", as: String.self) } }
            #expect(stored == [AdminSessions.digest(browser.sessionToken)])
            #expect(!stored.contains(browser.sessionToken))

            // Over HTTPS (a TLS terminator in front says so), the cookie is Secure too.
            let overTLS = try ConsoleBrowser.signIn(server, headers: [("X-Forwarded-Proto", "https")])
            #expect(overTLS.setCookie.contains("; Secure"))

            // The session works for reads, and says its CSRF token again.
            #expect(try browser.send("GET", "/admin/v1/clients").status == 200)
            let session = try browser.send("GET", "/admin/v1/session")
            #expect(session.status == 200)
            #expect(session.string("csrfToken") == browser.csrfToken)
            #expect(session.header("Cache-Control") == "no-store")
        }
    }

    @Test func noCookieOrAWrongTokenIs401AndSetsNoCookie() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            #expect(try server.request("GET", "/admin/v1/clients").status == 401)
            #expect(try server.request("GET", "/admin/v1/session").status == 401)
            #expect(try server.request("DELETE", "/admin/v1/session", headers: ConsoleBrowser.sameOrigin).status == 401)

            for body in [#"{"token": "wrong-token-of-some-length"}"#, #"{"token": ""}"#, #"{"token": 42}"#, #"{}"#] {
                let refused = try server.request("POST", "/admin/v1/session", json: body, headers: ConsoleBrowser.sameOrigin)
                #expect(refused.status == 401, "\(body): \(refused)")
                #expect(refused.header("Set-Cookie") == nil)
            }
            let sessions: Int = try server.pool.withConnection { try $0.query("SELECT count(*) FROM admin_sessions").first!.decode(Int.self) }
            #expect(sessions == 0)

            // A made-up cookie opens nothing, and is told to go away.
            let forged = try server.request("GET", "/admin/v1/clients", headers: [("Cookie", "\(ConsoleSessionCookie.name)=\(CredentialSecrets.newPassword())")])
            #expect(forged.status == 401)
            #expect(forged.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(try server.request("GET", "/admin/v1/clients", headers: [("Cookie", "\(ConsoleSessionCookie.name)=short")]).status == 401)
        }
    }

    @Test func crossSiteWritesAreRefusedAndChangeNothing() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let browser = try ConsoleBrowser.signIn(server)
            let turnUp = #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "club-1", "name": "Downtown"}]}"#
            let attempts: [(String, [(String, String)], Bool)] = [
                ("another site's page", [("Sec-Fetch-Site", "cross-site")], true),
                ("a sibling subdomain", [("Sec-Fetch-Site", "same-site")], true),
                ("no fetch metadata, another Origin", [("Origin", "https://evil.example")], true),
                ("no fetch metadata, a null Origin", [("Origin", "null")], true),
                ("no Origin and no fetch metadata", [], true),
                ("the console's page without the CSRF header", ConsoleBrowser.sameOrigin, false),
            ]
            for (name, headers, csrf) in attempts {
                let refused = try browser.send("POST", "/admin/v1/clients", json: turnUp, csrf: csrf, headers: headers)
                #expect(refused.status == 403, "\(name): \(refused)")
                #expect(refused.string("type") == "urn:connector-receiver:problem:cross-site-request", "\(name)")
            }
            let wrongToken = try browser.send("POST", "/admin/v1/clients", json: turnUp, csrf: false,
                                              headers: ConsoleBrowser.sameOrigin + [("X-CSRF-Token", String(repeating: "0", count: 64))])
            #expect(wrongToken.status == 403)
            #expect(try server.admin("GET", "/clients/acme").status == 404, "nothing was turned up")

            // Signing in from another site is refused too, and sets no cookie.
            let crossSignIn = try server.request("POST", "/admin/v1/session", json: #"{"token": "\#(TestServer.adminToken)"}"#,
                                                 headers: [("Sec-Fetch-Site", "cross-site")])
            #expect(crossSignIn.status == 403)
            #expect(crossSignIn.header("Set-Cookie") == nil)

            // From the console's page (by fetch metadata, or by an Origin of this host), with the token: done,
            // and audited as the console's.
            #expect(try browser.send("POST", "/admin/v1/clients", json: turnUp).status == 201)
            let byOrigin = try browser.send("PUT", "/admin/v1/clients/acme/clubs/club-2", json: #"{"name": "Uptown"}"#,
                                            headers: [("Origin", "http://127.0.0.1:\(server.port)")])
            #expect(byOrigin.status == 201, "\(byOrigin)")
            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.items.compactMap { $0.objectValue?["actor"]?.stringValue } == ["admin-console", "admin-console"])
        }
    }

    @Test func aSessionMadeOnOneInstanceWorksOnAnotherUntilSignedOutOnEither() throws {
        try TestDatabase.withMigratedDatabase { configuration in
            try TestServer.run(database: configuration, adminToken: TestServer.adminToken) { first in
                try TestServer.run(database: configuration, adminToken: TestServer.adminToken) { second in
                    let onFirst = try ConsoleBrowser.signIn(first)
                    let onSecond = ConsoleBrowser(server: second, cookie: onFirst.cookie, csrfToken: onFirst.csrfToken, setCookie: onFirst.setCookie)
                    #expect(try onSecond.send("GET", "/admin/v1/clients").status == 200)
                    #expect(try onSecond.send("POST", "/admin/v1/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "club-1", "name": "Downtown"}]}"#).status == 201)
                    #expect(try onSecond.send("DELETE", "/admin/v1/session").status == 204)
                    #expect(try onFirst.send("GET", "/admin/v1/clients").status == 401, "signed out everywhere")
                }
            }
        }
    }

    @Test func anOriginIsComparedWithTheHostItWasSentTo() {
        #expect(CrossSiteRequestCheck.isSameHost(origin: "admin.example.com:8443", host: "admin.example.com:8443"))
        #expect(CrossSiteRequestCheck.isSameHost(origin: "admin.example.com:8443", host: "admin.example.com"), "a proxy's Host without the port")
        #expect(!CrossSiteRequestCheck.isSameHost(origin: "admin.example.com:8443", host: "admin.example.com:443"))
        #expect(!CrossSiteRequestCheck.isSameHost(origin: "evil.example", host: "admin.example.com"))
        #expect(!CrossSiteRequestCheck.isSameHost(origin: "admin.example.com.evil.example", host: "admin.example.com"))
        #expect(CrossSiteRequestCheck.isSameHost(origin: "[::1]:8080", host: "[::1]"))
        #expect(!CrossSiteRequestCheck.isSameHost(origin: "[::1]:8080", host: "[::1]:9090"))
        #expect(CrossSiteRequestCheck.authority(ofOrigin: "null") == nil)
        #expect(CrossSiteRequestCheck.authority(ofOrigin: "https://a.example/path") == nil)
    }

    @Test func theBearerTokenWorksAsBeforeWhateverCookieComesWithIt() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let garbage = ("Cookie", "\(ConsoleSessionCookie.name)=\(CredentialSecrets.newPassword())")
            #expect(try server.admin("GET", "/clients", headers: [garbage]).status == 200)
            #expect(try server.admin("POST", "/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "club-1", "name": "Downtown"}]}"#, headers: [garbage]).status == 201)
            #expect(try server.admin("GET", "/clients", token: "wrong-token-of-some-length", headers: [garbage]).status == 401)
            let audit = try server.admin("GET", "/clients/acme/audit")
            #expect(audit.items.first?.objectValue?["actor"]?.stringValue == "admin-token")
        }
    }

    @Test func signingOutEndsTheSessionOnTheServer() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let browser = try ConsoleBrowser.signIn(server)
            let other = try ConsoleBrowser.signIn(server)
            #expect(try browser.send("DELETE", "/admin/v1/session", csrf: false).status == 403, "sign-out needs the CSRF token too")
            let signOut = try browser.send("DELETE", "/admin/v1/session")
            #expect(signOut.status == 204)
            #expect(signOut.header("Set-Cookie")?.hasPrefix("\(ConsoleSessionCookie.name)=;") == true)
            #expect(signOut.header("Set-Cookie")?.contains("Max-Age=0") == true)
            // The old cookie, replayed, opens nothing; the other session lives on.
            #expect(try browser.send("GET", "/admin/v1/clients").status == 401)
            #expect(try browser.send("GET", "/admin/v1/session").status == 401)
            #expect(try other.send("GET", "/admin/v1/clients").status == 200)
        }
    }

    @Test func anExpiredSessionIsRefusedAndPurgedAtTheNextSignIn() throws {
        try TestServer.run(adminToken: TestServer.adminToken) { server in
            let browser = try ConsoleBrowser.signIn(server)
            _ = try server.pool.withConnection { try $0.execute("UPDATE admin_sessions SET expires_at = now() - interval '1 second'") }
            let expired = try browser.send("GET", "/admin/v1/clients")
            #expect(expired.status == 401)
            #expect(expired.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(try browser.send("POST", "/admin/v1/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": []}"#).status == 401)

            _ = try ConsoleBrowser.signIn(server)
            let hashes = try server.pool.withConnection { try $0.query("SELECT token_hash FROM admin_sessions").map { try $0.decode("token_hash", as: String.self) } }
            #expect(hashes.count == 1)
            #expect(!hashes.contains(AdminSessions.digest(browser.sessionToken)))
        }
    }

    @Test func anUnreachableDatabaseIs503NotACrash() throws {
        let unreachable = try PostgresConfiguration(url: "host=127.0.0.1 port=9 dbname=none user=none", connectTimeout: .seconds(1))
        try TestServer.run(database: unreachable, adminToken: TestServer.adminToken) { server in
            let signIn = try server.request("POST", "/admin/v1/session", json: #"{"token": "\#(TestServer.adminToken)"}"#, headers: ConsoleBrowser.sameOrigin)
            #expect(signIn.status == 503, "\(signIn)")
            #expect(signIn.header("Set-Cookie") == nil)
            let read = try server.request("GET", "/admin/v1/clients", headers: [("Cookie", "\(ConsoleSessionCookie.name)=\(CredentialSecrets.newPassword())")])
            #expect(read.status == 503, "\(read)")
        }
    }

    /// The passwords appear in the answers that issue them (the one-time
    /// screens), and nowhere else; the admin token and the session token appear in
    /// no answer at all (the session token only in the sign-in's Set-Cookie).
    @Test func noSecretInAnyConsoleResponseButTheOneTimePasswordScreens() throws {
        try TestServer.run(service: ConsolePageTests.service(), adminToken: TestServer.adminToken) { (server: TestServer) throws in
            let browser = try ConsoleBrowser.signIn(server)
            var oneTime: [APIResponse] = []
            var others: [APIResponse] = []
            let turnUp = try browser.send("POST", "/admin/v1/clients", json: #"{"clientId": "acme", "name": "Acme", "clubs": [{"clubId": "club-1", "name": "Downtown"}]}"#)
            let rotate = try browser.send("POST", "/admin/v1/clients/acme/credentials")
            let reader = try browser.send("POST", "/admin/v1/clients/acme/reader-credentials", json: #"{"label": "CRM"}"#)
            oneTime += [turnUp, rotate, reader]
            let passwords = [turnUp.value("credentials.password"), rotate.string("password").map(JSONValue.string), reader.string("password").map(JSONValue.string)]
                .compactMap { $0?.stringValue }
            #expect(passwords.count == 3)
            let connector = APICredentials(username: rotate.string("username")!, password: rotate.string("password")!)
            #expect(try server.request("PUT", "/v1/prospects/by-external-id/x", json: #"{"clubId": "nope", "firstName": "A"}"#, auth: connector).status == 422)

            for path in ["/admin/", "/admin/console.js", "/admin/v1/session", "/admin/v1/clients", "/admin/v1/clients/acme",
                         "/admin/v1/clients/acme/health", "/admin/v1/clients/acme/audit", "/admin/v1/clients/acme/sync-errors",
                         "/admin/v1/clients/acme/reader-credentials", "/admin/v1/clients/acme/staff"] {
                let response = try browser.send("GET", path)
                #expect(response.status == 200, "\(path): \(response)")
                others.append(response)
            }
            others.append(try browser.send("PUT", "/admin/v1/clients/acme/clubs/club-1", json: #"{"name": "Downtown", "enabled": false}"#))
            others.append(try browser.send("POST", "/admin/v1/clients/acme/verify", json: #"{"password": "\#(connector.password)"}"#))
            others.append(try browser.send("DELETE", "/admin/v1/session"))

            for response in oneTime {
                #expect(response.header("Cache-Control") == "no-store")
            }
            for response in oneTime + others {
                let text = response.body + response.raw.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                #expect(!text.contains(TestServer.adminToken))
                #expect(!text.contains(browser.sessionToken))
            }
            for response in others {
                let text = response.body + response.raw.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                for password in passwords { #expect(!text.contains(password), "\(response)") }
            }
        }
    }
}
