import Foundation
import HTTPServer
import ReceiverCore

/// `GET /v1/staff`: the Connector's read of the staff list, every item with its email.
struct StaffRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.get("/v1/staff", handler: endpoint.read { call in
            let request = call.request
            let page = try RequestSupport.page(request, keyCount: 2)
            let after = try StaffAdminStore.after(page)
            let staff = try StaffAdminStore.list(
                clientId: call.client.clientId,
                clubId: try RequestSupport.queryText(request, "clubId", maxLength: 64),
                email: try RequestSupport.queryText(request, "email", maxLength: 254),
                after: after, limit: page.limit + 1, on: call.connection)
            return .json(page.listBody(staff, json: \.json, sortKey: StaffAdminStore.sortKey))
        })
    }
}
