import HTTPServer
import HTTPTypes
import Postgres
import ReceiverCore

extension AdminRoutes {
    /// `GET /admin/v1/clients/{clientId}/health`: the client's connection health
    /// and the troubleshooting causes of a Connector's 401/403 (which is true now).
    ///
    /// Its own resource, not a member of the client: the client's representation
    /// has a strong `ETag` from its `version`, which health (moving with every
    /// call) must not change, and a conditional GET must never answer 304 over a
    /// badge that turned red. The list of clients, which has no `ETag`, carries
    /// each client's `health` too.
    func registerHealth(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.get("/admin/v1/clients/{clientId}/health", handler: endpoint.handler { [callRecorder] call in
            let clientId = try call.parameter("clientId")
            let (client, health) = try call.withConnection { connection in
                let client = try ClientStore.require(clientId, on: connection)
                return (client, try Self.health(of: [clientId], recorder: callRecorder, on: connection)[clientId])
            }
            guard let health else { throw ReceiverError.notFound("No client \(clientId).") }
            var body = health.json
            body["troubleshooting"] = ConnectionTroubleshooting(client: client, health: health).json
            return .json(JSONWriter.serialize(.object(body)))
        })
    }

    /// The health of `clientIds`, after writing this instance's calls noted so
    /// far (so the admin sees the call just made, not the one before the last flush).
    static func health(of clientIds: [String], recorder: ClientCallRecorder?, on connection: PostgresConnection) throws -> [String: ClientHealth] {
        try? recorder?.flush(on: connection)
        return try ClientHealthStore.read(clientIds: clientIds, on: connection)
    }

    /// A client of the list, with its `health`.
    static func listedJSON(_ client: ClientRecord, health: [String: ClientHealth]) -> JSONObject {
        var json = client.json
        json["health"] = health[client.clientId].map { .object($0.json) } ?? .null
        return json
    }
}
