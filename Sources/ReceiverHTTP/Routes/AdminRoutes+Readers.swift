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
            var response = Response.json(JSONWriter.serialize(.object(issued.json)), status: .created)
            response.headerFields[.location] = "/admin/v1/clients/\(clientId)/reader-credentials/\(issued.reader.id.lowercasedString)"
            Self.forbidCaching(&response)
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
            var response = Response.json(page.listBody(readers, json: \.json, sortKey: ReaderCredentials.sortKey))
            Self.forbidCaching(&response)
            return response
        })

        router.get("/admin/v1/clients/{clientId}/reader-credentials/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let id = try call.parameter("id")
            let reader = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                guard let uuid = RecordID.parse(id) else { throw ReaderCredentials.unknownReader(id, clientId: clientId) }
                return try ReaderCredentials.require(uuid, clientId: clientId, on: connection)
            }
            var response = Response.json(JSONWriter.serialize(.object(reader.json)))
            Self.forbidCaching(&response)
            return response
        })

        router.delete("/admin/v1/clients/{clientId}/reader-credentials/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let id = try call.parameter("id")
            let reader = try call.withConnection { connection in
                guard let uuid = RecordID.parse(id) else {
                    try ClientStore.requireExists(clientId, on: connection)
                    throw ReaderCredentials.unknownReader(id, clientId: clientId)
                }
                return try ReaderCredentials.revoke(uuid, clientId: clientId, by: call.audit, on: connection)
            }
            call.logChange("reader.revoke", clientId: clientId, [
                "reader-id": .string(reader.id.lowercasedString), "username": .string(reader.username),
            ])
            return Response(status: .noContent)
        })
    }
}
