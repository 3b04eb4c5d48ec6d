import HTTPServer

/// `GET /v1/staff`: the Connector's read of the staff list, every item with its email.
struct StaffRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.get("/v1/staff", handler: endpoint.read { call in
            let request = call.request
            let page = try Page.parse(try RequestSupport.queryValue(request, "limit"), try RequestSupport.queryValue(request, "cursor"), keyCount: 2)
            let staff = try StaffStore.list(
                clientId: call.client.clientId,
                clubId: try RequestSupport.queryText(request, "clubId", maxLength: 64),
                email: try RequestSupport.queryText(request, "email", maxLength: 254),
                page: page, on: call.connection)
            return .json(page.listBody(staff, json: \.json, sortKey: StaffStore.sortKey))
        })
    }
}
