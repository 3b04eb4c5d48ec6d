import Foundation
import HTTPServer
import HTTPTypes

extension AdminRoutes {
    /// `/admin/v1/clients/{clientId}/staff`: list, upsert by email, deactivate.
    func registerStaff(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.get("/admin/v1/clients/{clientId}/staff", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let page = try Page.parse(try RequestSupport.queryValue(call.request, "limit"), try RequestSupport.queryValue(call.request, "cursor"), keyCount: 2)
            var after: (email: String, id: UUID)?
            if let key = page.after {
                guard let id = UUID(uuidString: key[1]) else { throw Self.badCursor() }
                after = (key[0], id)
            }
            let staff = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                return try StaffAdminStore.list(clientId: clientId, after: after, limit: page.limit + 1, on: connection)
            }
            return .json(page.listBody(staff, json: \.json, sortKey: StaffAdminStore.sortKey))
        })

        router.put("/admin/v1/clients/{clientId}/staff/{email}", handler: endpoint.handler { call in
            let body = try RequestSupport.jsonObject(call.request)
            let clientId = try call.parameter("clientId")
            let input = try StaffInput.parse(body, email: try call.parameter("email")).validated()
            let (staff, created) = try call.withConnection { connection in
                try StaffAdminStore.upsert(input, clientId: clientId, by: call.audit, on: connection) { existing in
                    try RequestSupport.checkIfMatch(call.request, currentVersion: existing?.version)
                }
            }
            call.logChange(created ? "staff.create" : "staff.update", clientId: clientId, ["staff-id": .string(staff.id.lowercasedString)])
            return RequestSupport.record(staff.json, version: staff.version, status: created ? .created : .ok)
        })

        router.delete("/admin/v1/clients/{clientId}/staff/{email}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let staff = try call.withConnection { connection in
                try StaffAdminStore.deactivate(email: try call.parameter("email"), clientId: clientId, by: call.audit, on: connection)
            }
            call.logChange("staff.deactivate", clientId: clientId, ["staff-id": .string(staff.id.lowercasedString)])
            return RequestSupport.record(staff.json, version: staff.version)
        })
    }

    /// The 400 of a cursor whose values do not fit its list (as `Page.parse` words it).
    static func badCursor() -> Problem {
        Problem.badRequest("cursor is not a cursor this list returned; start again without it.")
    }
}
