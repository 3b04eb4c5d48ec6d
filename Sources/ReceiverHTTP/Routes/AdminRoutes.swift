import HTTPServer
import HTTPTypes
import Postgres
import ReceiverCore

/// `/admin/v1`: turn-up and administration of clients, behind the admin token.
///
/// Without a configured token the admin API is off: every `/admin/v1` path (up
/// to `maximumDepthWhenOff` segments below it), whatever the method, answers 404
/// with a problem saying so, before anything else is looked at.
struct AdminRoutes {
    let database: PostgresConnectionPool
    let authenticator: AdminAuthenticator?
    /// The `connection` of a client turned up without one.
    let defaultConnection: @Sendable () -> ClientConnection
    let verifier: ConnectionVerifier
    /// Webhook endpoints may be at loopback, private and link-local addresses.
    var allowPrivateWebhookAddresses = false
    /// The Connector calls noted for each client's health; nil: none kept.
    var callRecorder: ClientCallRecorder? = nil

    static let maximumDepthWhenOff = 8

    func register(in router: inout Router) {
        guard let authenticator else {
            registerOff(in: &router)
            return
        }
        let endpoint = AdminEndpoint(database: database, authenticator: authenticator)
        registerClients(in: &router, endpoint)
        registerStaff(in: &router, endpoint)
        registerReaders(in: &router, endpoint)
        registerWebhooks(in: &router, endpoint)
        registerLogs(in: &router, endpoint)
        registerHealth(in: &router, endpoint)
    }

    private func registerOff(in router: inout Router) {
        var template = "/admin/v1"
        for depth in 0...Self.maximumDepthWhenOff {
            if depth > 0 { template += "/{segment\(depth)}" }
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
                router.on(method, template, options: .inline) { _, _ in throw AdminAuthenticator.adminAPIOff() }
            }
        }
    }

    // MARK: - Clients, clubs, credentials, verify

    private func registerClients(in router: inout Router, _ endpoint: AdminEndpoint) {
        router.get("/admin/v1/clients", handler: endpoint.handler { [callRecorder] call in
            let page = try RequestSupport.page(call.request, keyCount: 1)
            let (clients, health) = try call.withConnection { connection in
                let clients = try ClientStore.list(after: page.after?[0], limit: page.limit + 1, on: connection)
                return (clients, try Self.health(of: clients.map(\.clientId), recorder: callRecorder, on: connection))
            }
            return .json(page.listBody(clients, json: { Self.listedJSON($0, health: health) }, sortKey: { [$0.clientId] }))
        })

        router.post("/admin/v1/clients", handler: endpoint.handler { [defaultConnection] call in
            let body = try RequestSupport.jsonObject(call.request)
            let request = try TurnUpRequest.parse(body, defaultConnection: defaultConnection()).validated()
            let turnedUp = try call.withConnection { connection in
                try ClientStore.turnUp(request, by: call.audit, on: connection)
            }
            call.logChange("client.create", clientId: request.clientId, ["username": .string(turnedUp.credential.username)])
            var response = Response.json(JSONWriter.serialize(.object(turnedUp.json)), status: .created)
            response.headerFields[.location] = "/admin/v1/clients/\(request.clientId)"
            Self.forbidCaching(&response)
            return response
        })

        router.get("/admin/v1/clients/{clientId}", handler: endpoint.handler { call in
            let client = try call.withConnection { try ClientStore.require(try call.parameter("clientId"), on: $0) }
            return RequestSupport.record(client.json, version: client.version)
        })

        router.patch("/admin/v1/clients/{clientId}", handler: endpoint.handler { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            let clientId = try call.parameter("clientId")
            var before: Int?
            let client = try call.withConnection { connection in
                try ClientStore.update(clientId, by: call.audit, on: connection) { current in
                    before = current.version
                    try RequestSupport.versionCondition(call.request).check(currentVersion: current.version)
                    return try ClientChanges.parse(patch, over: current).validated()
                }
            }
            if client.version != before { call.logChange("client.update", clientId: clientId, ["status": .string(client.status)]) }
            return RequestSupport.record(client.json, version: client.version)
        })

        router.put("/admin/v1/clients/{clientId}/clubs/{clubId}", handler: endpoint.handler { call in
            let body = try RequestSupport.jsonObject(call.request)
            let clientId = try call.parameter("clientId")
            let input = try ClubInput.parse(body, clubId: try call.parameter("clubId")).validated()
            let (club, created) = try call.withConnection { connection in
                try ClientStore.upsertClub(input, clientId: clientId, by: call.audit, on: connection)
            }
            call.logChange(created ? "club.create" : "club.update", clientId: clientId, ["club-id": .string(club.clubId), "enabled": .stringConvertible(club.enabled)])
            return .json(JSONWriter.serialize(.object(club.json)), status: created ? .created : .ok)
        })

        router.post("/admin/v1/clients/{clientId}/credentials", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let credential = try call.withConnection { connection in
                try ClientStore.rotateCredential(clientId: clientId, by: call.audit, on: connection)
            }
            call.logChange("credentials.rotate", clientId: clientId, ["username": .string(credential.username)])
            var response = Response.json(JSONWriter.serialize(.object(credential.json)), status: .created)
            Self.forbidCaching(&response)
            return response
        })

        router.post("/admin/v1/clients/{clientId}/verify", handler: endpoint.handler { [verifier] call in
            let password = try Self.verifyPassword(call.request)
            // Look the client up, give the connection back, then call out: the
            // authenticated step may land on this very server and need one.
            let client = try call.withConnection { try ClientStore.require(try call.parameter("clientId"), on: $0) }
            let steps = verifier.verify(client.connection, username: client.username ?? "", password: password)
            call.logger.info("admin verify", metadata: [
                "client-id": .string(client.clientId),
                "steps": .string(steps.map { "\($0.name)=\($0.ok ? "ok" : "failed")" }.joined(separator: ",")),
            ])
            return .json(JSONWriter.serialize(.object(["steps": .array(steps.map { .object($0.json) })])))
        })
    }

    /// The optional `{"password": "..."}` of a verify request. No body (and then
    /// no Content-Type) is fine. The password is taken as sent, untrimmed, and
    /// never repeated in a message.
    static func verifyPassword(_ request: Request) throws -> String? {
        guard !request.body.isEmpty else { return nil }
        let body = try RequestSupport.jsonObject(request)
        switch body["password"] {
        case nil, .null?:
            return nil
        case .string(let password)?:
            guard (1...256).contains(password.unicodeScalars.count) else {
                throw Problem.invalidField("password", "must be 1 to 256 characters")
            }
            return password
        case let other?:
            throw Problem.invalidField("password", "must be a string, not \(other.typeName)")
        }
    }

    /// RFC 9111 §5.2.2.5: a response carrying a password must not be stored by any cache.
    static func forbidCaching(_ response: inout Response) {
        response.headerFields[.cacheControl] = "no-store"
    }
}
