import HTTPServer
import HTTPTypes
import ReceiverCore

extension AdminRoutes {
    /// `/admin/v1/clients/{clientId}/sync-errors` and `/audit`: oldest first, by id.
    func registerLogs(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.get("/admin/v1/clients/{clientId}/sync-errors", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let (page, after) = try Self.idPage(call.request)
            let errors = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                return try SyncErrorStore.listOpen(clientId: clientId, after: after, limit: page.limit + 1, on: connection)
            }
            return .json(page.listBody(errors, json: \.json, sortKey: { [String($0.id)] }))
        })

        router.get("/admin/v1/clients/{clientId}/audit", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let (page, after) = try Self.idPage(call.request)
            let events = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                return try AuditLog.list(clientId: clientId, after: after, limit: page.limit + 1, on: connection)
            }
            return .json(page.listBody(events, json: \.json, sortKey: { [String($0.id)] }))
        })
    }

    /// `limit` and `cursor` of a list keyed by a numeric id.
    private static func idPage(_ request: Request) throws -> (Page, Int?) {
        let page = try RequestSupport.page(request, keyCount: 1)
        guard let key = page.after else { return (page, nil) }
        guard let id = Int(key[0]) else { throw Problem(.foreignCursor) }
        return (page, id)
    }
}
