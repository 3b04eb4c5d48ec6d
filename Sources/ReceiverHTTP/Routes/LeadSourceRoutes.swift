import HTTPServer
import HTTPTypes
import ReceiverCore

/// `/v1/lead-sources`: list, get, create, merge-patch update, delete (= deactivate).
struct LeadSourceRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.get("/v1/lead-sources", handler: endpoint.read { call in
            let page = try RequestSupport.page(call.request, keyCount: 2)
            let active = try RequestSupport.queryBool(call.request, "active")
            let sources = try LeadSourceStore.list(clientId: call.client.clientId, active: active, page: page, on: call.connection)
            return .json(page.listBody(sources, json: \.json, sortKey: LeadSourceStore.sortKey))
        })

        router.get("/v1/lead-sources/{id}", handler: endpoint.read { call in
            let source = try LeadSourceStore.require(try call.parameter("id"), clientId: call.clientId, on: call.connection)
            return RequestSupport.record(source.json, version: source.version)
        })

        router.post("/v1/lead-sources", handler: endpoint.write(.leadSource) { call in
            let input = try LeadSourceInput.parse(try RequestSupport.jsonObject(call.request)).validated()
            return try IdempotentCall.perform(call) { connection in
                let source = try LeadSourceStore.create(input, clientId: call.client.clientId, on: connection)
                return RequestSupport.record(source.json, version: source.version, status: .created, location: "/v1/lead-sources/\(source.id.lowercasedString)")
            }
        })

        router.patch("/v1/lead-sources/{id}", handler: endpoint.write(.leadSource) { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            return try call.connection.transaction { connection in
                let updated = try LeadSourceStore.patch(
                    try call.parameter("id"), with: patch, condition: RequestSupport.versionCondition(call.request),
                    clientId: call.clientId, on: connection)
                return RequestSupport.record(updated.json, version: updated.version)
            }
        })

        router.delete("/v1/lead-sources/{id}", handler: endpoint.write(.leadSource) { call in
            try call.connection.transaction { connection in
                try LeadSourceStore.deactivate(
                    try call.parameter("id"), condition: RequestSupport.versionCondition(call.request), clientId: call.clientId, on: connection)
                return Response(status: .noContent)
            }
        })
    }
}
