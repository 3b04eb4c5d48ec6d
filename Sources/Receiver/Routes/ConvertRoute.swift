import Foundation
import HTTPServer
import Postgres

/// `POST /v1/prospects/{id}/convert`: creates the member and marks the prospect
/// converted, in one transaction. The member body may leave out the person
/// fields; each missing one is taken from the prospect.
struct ConvertRoute {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        router.post("/v1/prospects/{id}/convert", handler: endpoint.write(.convert) { call in
            let body = try RequestSupport.jsonObject(call.request)
            return try Idempotency.perform(call) { connection in
                let clientId = call.client.clientId
                let prospect = try PersonRoutes<Prospect>.require(try call.parameter("id"), call, forUpdate: true)
                if let memberId = prospect.memberId {
                    throw Problem.conflict("The prospect was already converted into member \(memberId.lowercasedString).",
                                           extensions: ["existingId": .string(memberId.lowercasedString)])
                }
                var merged = prospect.input.person.jsonMembers().reduce(into: JSONObject()) { $0[$1.name] = $1.value }
                merged["externalId"] = nil  // the prospect's external id names the prospect, not the member
                for (name, value) in body.members where !value.isNull { merged[name] = value }
                let input = try MemberInput.parse(merged).validated()

                typealias Members = PersonRoutes<Member>
                try Members.checkReferences(input, clientId: clientId, on: connection)
                if let externalId = input.person.externalId,
                   let existing = try PersonStore<Member>.find(externalId: externalId, clientId: clientId, on: connection) {
                    throw Members.externalIdTaken(externalId, existingId: existing.id)
                }
                let member = try Members.catchingExternalIdConflict(input.person.externalId) {
                    try PersonStore<Member>.insert(input, clientId: clientId, extra: [("prospect_id", PostgresBinding(prospect.id))], resolving: nil, on: connection)
                }
                try connection.execute("""
                    UPDATE prospects SET status = 'converted', member_id = \(member.id), updated_at = now(), version = version + 1
                    WHERE client_id = \(clientId) AND id = \(prospect.id)
                    """)
                try SyncErrors.resolve(resource: .convert, externalId: nil, recordId: prospect.id, clientId: clientId, on: connection)
                return RequestSupport.record(member.json, version: member.version, status: .created, location: "/v1/members/\(member.id.lowercasedString)")
            }
        })
    }
}
