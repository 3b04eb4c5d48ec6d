import Foundation
import HTTPServer
import HTTPTypes
import ReceiverCore

extension AdminRoutes {
    /// `/admin/v1/clients/{clientId}/reader-credentials`: issue, list, read and
    /// revoke the read-only credentials of the client's club systems.
    func registerReaders(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.post("/admin/v1/clients/{clientId}/reader-credentials", handler: endpoint.handler { call in
            let body = try RequestSupport.jsonObject(call.request)
            let clientId = try call.parameter("clientId")
            let label = try ReaderCredentials.parseLabel(body).validated()
            let issued = try call.withConnection { connection in
                try ReaderCredentials.issue(clientId: clientId, label: label, by: call.audit, on: connection)
            }
            call.logChange("reader.create", clientId: clientId, [
                "reader-id": .string(issued.reader.id.lowercasedString), "username": .string(issued.reader.username),
            ])
            var response = Self.uncached(JSONWriter.serialize(.object(issued.json)), status: .created)
            response.headerFields[.location] = "/admin/v1/clients/\(clientId)/reader-credentials/\(issued.reader.id.lowercasedString)"
            return response
        })

        router.get("/admin/v1/clients/{clientId}/reader-credentials", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let page = try RequestSupport.page(call.request, keyCount: 1)
            let after = try ReaderCredentials.after(page)
            let readers = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                return try ReaderCredentials.list(clientId: clientId, after: after, limit: page.limit + 1, on: connection)
            }
            return Self.uncached(page.listBody(readers, json: \.json, sortKey: ReaderCredentials.sortKey))
        })

        router.get("/admin/v1/clients/{clientId}/reader-credentials/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let reader = try call.withConnection { connection in
                let id = try ReaderCredentials.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                try ClientStore.requireExists(clientId, on: connection)
                return try ReaderCredentials.require(id, clientId: clientId, on: connection)
            }
            return Self.uncached(JSONWriter.serialize(.object(reader.json)))
        })

        router.delete("/admin/v1/clients/{clientId}/reader-credentials/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let reader = try call.withConnection { connection in
                let id = try ReaderCredentials.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                return try ReaderCredentials.revoke(id, clientId: clientId, by: call.audit, on: connection)
            }
            call.logChange("reader.revoke", clientId: clientId, [
                "reader-id": .string(reader.id.lowercasedString), "username": .string(reader.username),
            ])
            return Response(status: .noContent)
        })
    }

    /// A JSON response no cache may store: it carries a password, or what only
    /// the admins may see of a client's access.
    private static func uncached(_ body: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var response = Response.json(body, status: status)
        forbidCaching(&response)
        return response
    }
}
