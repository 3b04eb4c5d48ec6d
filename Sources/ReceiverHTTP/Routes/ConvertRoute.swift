import HTTPServer
import ReceiverCore

/// `POST /v1/prospects/{id}/convert`: the member, created from the prospect
/// (`Conversion` in the core).
struct ConvertRoute {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.post("/v1/prospects/{id}/convert", handler: endpoint.write(.convert) { call in
            let body = try RequestSupport.jsonObject(call.request)
            return try IdempotentCall.perform(call) { connection in
                let member = try Conversion.convert(try call.parameter("id"), into: body, clientId: call.clientId, on: connection)
                return RequestSupport.record(member.json, version: member.version, status: .created, location: "/v1/members/\(member.id.lowercasedString)")
            }
        })
    }
}
