import Foundation
import HTTPServer

/// `GET /v1/staff`: the Connector's read of the staff list, every item with its email.
struct StaffRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.get("/v1/staff", handler: endpoint.read { call in
            let request = call.request
            let page = try Page.parse(try RequestSupport.queryValue(request, "limit"), try RequestSupport.queryValue(request, "cursor"), keyCount: 2)
            let after = try page.after.map { key -> (email: String, id: UUID) in
                guard let id = UUID(uuidString: key[1]) else {
                    throw Problem.badRequest("cursor is not a cursor this list returned; start again without it.")
                }
                return (key[0], id)
            }
            let staff = try StaffAdminStore.list(
                clientId: call.client.clientId,
                clubId: try RequestSupport.queryText(request, "clubId", maxLength: 64),
                email: try RequestSupport.queryText(request, "email", maxLength: 254),
                after: after, limit: page.limit + 1, on: call.connection)
            return .json(page.listBody(staff, json: \.json, sortKey: StaffAdminStore.sortKey))
        })
    }
}
