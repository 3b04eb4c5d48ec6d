import Foundation
import HTTPServer
import HTTPTypes
import ReceiverCore

extension AdminRoutes {
    /// `/admin/v1/clients/{clientId}/staff`: list, upsert by email, deactivate.
    func registerStaff(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.get("/admin/v1/clients/{clientId}/staff", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let page = try RequestSupport.page(call.request, keyCount: 2)
            let after = try StaffAdminStore.after(page)
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
                try StaffAdminStore.upsert(input, clientId: clientId, condition: RequestSupport.versionCondition(call.request), by: call.audit, on: connection)
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
}
