import HTTPServer
import HTTPTypes

/// `/v1/lead-sources`: list, get, create, merge-patch update, delete (= deactivate).
struct LeadSourceRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.get("/v1/lead-sources", handler: endpoint.read { call in
            let page = try Page.parse(try RequestSupport.queryValue(call.request, "limit"), try RequestSupport.queryValue(call.request, "cursor"), keyCount: 2)
            let active = try RequestSupport.queryBool(call.request, "active")
            let sources = try LeadSourceStore.list(clientId: call.client.clientId, active: active, page: page, on: call.connection)
            return .json(page.listBody(sources, json: \.json, sortKey: LeadSourceStore.sortKey))
        })

        router.get("/v1/lead-sources/{id}", handler: endpoint.read { call in
            let source = try Self.require(try call.parameter("id"), call)
            return RequestSupport.record(source.json, version: source.version)
        })

        router.post("/v1/lead-sources", handler: endpoint.write(.leadSource) { call in
            let input = try LeadSourceInput.parse(try RequestSupport.jsonObject(call.request)).validated()
            return try Idempotency.perform(call) { connection in
                let source = try LeadSourceStore.create(input, clientId: call.client.clientId, on: connection)
                return RequestSupport.record(source.json, version: source.version, status: .created, location: "/v1/lead-sources/\(source.id.lowercasedString)")
            }
        })

        router.patch("/v1/lead-sources/{id}", handler: endpoint.write(.leadSource) { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            return try call.connection.transaction { connection in
                let current = try Self.require(try call.parameter("id"), call, forUpdate: true)
                try RequestSupport.checkIfMatch(call.request, currentVersion: current.version)
                let merged = JSONMergePatch.apply(.object(patch), to: .object(current.inputJSON)).objectValue ?? [:]
                let input = try LeadSourceInput.parse(merged).validated()
                let updated = try LeadSourceStore.update(current, to: input, clientId: call.client.clientId, on: connection)
                return RequestSupport.record(updated.json, version: updated.version)
            }
        })

        router.delete("/v1/lead-sources/{id}", handler: endpoint.write(.leadSource) { call in
            try call.connection.transaction { connection in
                let current = try Self.require(try call.parameter("id"), call, forUpdate: true)
                try RequestSupport.checkIfMatch(call.request, currentVersion: current.version)
                var input = try LeadSourceInput.parse(current.inputJSON).validated()
                input.active = false
                _ = try LeadSourceStore.update(current, to: input, clientId: call.client.clientId, on: connection)
                return Response(status: .noContent)
            }
        })
    }

    private static func require(_ idText: String, _ call: ConnectorCall, forUpdate: Bool = false) throws -> LeadSource {
        guard let id = RecordID.parse(idText),
              let source = try LeadSourceStore.find(id, clientId: call.client.clientId, on: call.connection, forUpdate: forUpdate)
        else { throw Problem.notFound("No lead source with id \(idText).") }
        return source
    }
}

extension Result where Failure == ValidationFailure {
    /// The value, or the 422 problem naming every bad field.
    func validated() throws -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let failure): throw Problem.validation(failure.errors)
        }
    }
}
