import Foundation
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// A browser signed in to the console of a `TestServer`: its session cookie and
/// CSRF token, sending what a same-origin `fetch` sends.
struct ConsoleBrowser {
    let server: TestServer
    let cookie: String
    let csrfToken: String
    /// The raw `Set-Cookie` of the sign-in.
    let setCookie: String

    /// The fetch metadata of a request made by the console's own page.
    static let sameOrigin = [("Sec-Fetch-Site", "same-origin")]

    static func signIn(_ server: TestServer, token: String = TestServer.adminToken, headers: [(String, String)] = []) throws -> ConsoleBrowser {
        let response = try server.request("POST", "/admin/v1/session", json: #"{"token": "\#(token)"}"#, headers: sameOrigin + headers)
        #expect(response.status == 201, "\(response)")
        let setCookie = try #require(response.header("Set-Cookie"), "\(response)")
        let pair = try #require(setCookie.split(separator: ";").first)
        return ConsoleBrowser(
            server: server, cookie: String(pair), csrfToken: try #require(response.string("csrfToken")), setCookie: setCookie)
    }

    /// The session token the cookie carries.
    var sessionToken: String { String(cookie.split(separator: "=", maxSplits: 1)[1]) }

    /// A request as the console makes it: the cookie, same-origin metadata, and on
    /// writes the CSRF token (unless `csrf` is false).
    func send(_ method: String, _ path: String, json: String? = nil, csrf: Bool = true, headers: [(String, String)]? = nil) throws -> APIResponse {
        var all = [("Cookie", cookie)] + (headers ?? Self.sameOrigin)
        if csrf, method != "GET" { all.append(("X-CSRF-Token", csrfToken)) }
        return try server.request(method, path, json: json, headers: all)
    }
}

extension JSONValue {
    var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}
