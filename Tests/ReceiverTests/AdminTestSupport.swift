import Foundation
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

extension TestServer {
    static let adminToken = "test-admin-token-4f9c2e7a1b"

    /// A request to `/admin/v1` + `path` with the admin token (or `token`, or none).
    func admin(
        _ method: String, _ path: String, json: String? = nil, token: String? = TestServer.adminToken,
        headers: [(String, String)] = [], contentType: String? = "application/json"
    ) throws -> APIResponse {
        var allHeaders = headers
        if let token { allHeaders.append(("Authorization", "Bearer \(token)")) }
        return try request(method, "/admin/v1" + path, json: json, headers: allHeaders, contentType: contentType)
    }

    /// Turns up a client through the admin API; expects 201 and returns the
    /// response with the issued credentials.
    func adminTurnUp(
        _ clientId: String, clubs: String = #"[{"clubId": "club-1", "name": "Downtown"}, {"clubId": "club-2", "name": "Uptown"}]"#,
        extra: String = ""
    ) throws -> (response: APIResponse, credentials: APICredentials) {
        let body = #"{"clientId": "\#(clientId)", "name": "Client \#(clientId)", "clubs": \#(clubs)\#(extra)}"#
        let response = try admin("POST", "/clients", json: body)
        #expect(response.status == 201, "\(response)")
        let username = try #require(response.value("credentials.username")?.stringValue, "\(response)")
        let password = try #require(response.value("credentials.password")?.stringValue, "\(response)")
        return (response, APICredentials(username: username, password: password))
    }
}

extension APIResponse {
    /// The value at a dotted path of the JSON body; numeric segments index arrays
    /// (`client.clubs.0.enabled`).
    func value(_ path: String) -> JSONValue? {
        var current = json
        for segment in path.split(separator: ".") {
            switch current {
            case .object(let object)?: current = object[String(segment)]
            case .array(let elements)?:
                guard let index = Int(segment), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default: return nil
            }
        }
        return current
    }

    /// The `items` of a list body.
    var items: [JSONValue] {
        guard case .array(let items)? = self["items"] else { return [] }
        return items
    }

    /// A member of every item of a list body.
    func itemValues(_ name: String) -> [JSONValue] {
        items.compactMap { $0.objectValue?[name] }
    }
}
