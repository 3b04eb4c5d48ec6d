import Foundation
import HTTPServer
import HTTPTypes
import Logging
import ReceiverCore

extension AdminRoutes {
    /// `/admin/v1/clients/{clientId}/webhook-endpoints`: the client's webhook endpoints
    /// (create, list, read, change, delete, rotate the secret) and their deliveries (the log,
    /// resend, recover). The secret is in a response only at creation and rotation, and
    /// never in a log line or the audit trail.
    func registerWebhooks(in router: inout Router, _ endpoint: AdminEndpoint) {
        let collection = "/admin/v1/clients/{clientId}/webhook-endpoints"
        let allowPrivateAddresses = allowPrivateWebhookAddresses

        router.post(collection, handler: endpoint.handler { call in
            let body = try RequestSupport.jsonObject(call.request)
            let clientId = try call.parameter("clientId")
            let input = try WebhookEndpointInput.parse(body).validated()
            let created = try call.withConnection { connection in
                try WebhookEndpointStore.create(
                    clientId: clientId, input, allowPrivateAddresses: allowPrivateAddresses, by: call.audit, on: connection)
            }
            call.logChange("webhook.create", clientId: clientId, Self.webhookLogFields(created.endpoint))
            return RequestSupport.record(
                created.json, version: created.endpoint.version, status: .created,
                location: Self.webhookPath(clientId, created.endpoint.id))
        })

        router.get(collection, handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let page = try RequestSupport.page(call.request, keyCount: 1)
            let after = try WebhookEndpointStore.after(page)
            let endpoints = try call.withConnection { connection in
                try ClientStore.requireExists(clientId, on: connection)
                return try WebhookEndpointStore.list(clientId: clientId, after: after, limit: page.limit + 1, on: connection)
            }
            return .json(page.listBody(endpoints, json: \.json, sortKey: WebhookEndpointStore.sortKey))
        })

        router.get(collection + "/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let webhook = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                try ClientStore.requireExists(clientId, on: connection)
                return try WebhookEndpointStore.require(id, clientId: clientId, on: connection)
            }
            return RequestSupport.record(webhook.json, version: webhook.version)
        })

        router.patch(collection + "/{id}", handler: endpoint.handler { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            let clientId = try call.parameter("clientId")
            var before: WebhookEndpoint?
            let webhook = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                return try WebhookEndpointStore.update(
                    id, clientId: clientId, allowPrivateAddresses: allowPrivateAddresses, by: call.audit, on: connection
                ) { current in
                    before = current
                    try RequestSupport.versionCondition(call.request).check(currentVersion: current.version)
                    return try WebhookEndpointInput.parse(patch: patch, over: current).validated()
                }
            }
            if webhook.version != before?.version {
                var fields = Self.webhookLogFields(webhook)
                if before?.enabled == false && webhook.enabled { fields["resumed"] = "true" }
                call.logChange("webhook.update", clientId: clientId, fields)
            }
            return RequestSupport.record(webhook.json, version: webhook.version)
        })

        router.delete(collection + "/{id}", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let id = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                try WebhookEndpointStore.delete(id, clientId: clientId, by: call.audit, on: connection)
                return id
            }
            call.logChange("webhook.delete", clientId: clientId, ["webhook-id": .string(id.lowercasedString)])
            return Response(status: .noContent)
        })

        router.post(collection + "/{id}/secret", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let (id, secret) = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                return (id, try WebhookEndpointStore.rotateSecret(id, clientId: clientId, by: call.audit, on: connection))
            }
            call.logChange("webhook.rotate_secret", clientId: clientId, ["webhook-id": .string(id.lowercasedString)])
            return .json(JSONWriter.serialize(.object(["secret": .string(secret.encoded)])), status: .created)
        })

        router.get(collection + "/{id}/deliveries", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let page = try RequestSupport.page(call.request, keyCount: 2)
            let after = try WebhookDeliveryLog.after(page)
            let status = try Self.deliveryStatus(call.request)
            let eventId = try Self.deliveryEventId(call.request)
            let entries = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                return try WebhookDeliveryLog.list(
                    endpointId: id, clientId: clientId, status: status, eventId: eventId, after: after, limit: page.limit + 1,
                    on: connection)
            }
            return .json(page.listBody(entries, json: \.json, sortKey: \.sortKey))
        })

        router.post(collection + "/{id}/deliveries/{eventId}/resend", handler: endpoint.handler { call in
            let clientId = try call.parameter("clientId")
            let eventText = try call.parameter("eventId")
            let id = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                guard let eventId = WebhookDeliveryLog.parseEventId(eventText) else {
                    _ = try WebhookEndpointStore.require(id, clientId: clientId, on: connection)
                    throw ReceiverError.notFound(
                        "No delivery of event \(eventText) to webhook endpoint \(id.lowercasedString) at client \(clientId).")
                }
                try WebhookDeliveryLog.resend(eventId: eventId, endpointId: id, clientId: clientId, by: call.audit, on: connection)
                return id
            }
            call.logChange("webhook.resend", clientId: clientId, ["webhook-id": .string(id.lowercasedString), "event-id": .string(eventText)])
            return Response(status: .accepted)
        })

        router.post(collection + "/{id}/recover", handler: endpoint.handler { call in
            let body = try RequestSupport.jsonObject(call.request)
            let clientId = try call.parameter("clientId")
            let since = try WebhookDeliveryLog.parseSince(body).validated()
            let (id, count) = try call.withConnection { connection in
                let id = try WebhookEndpointStore.parseId(try call.parameter("id"), clientId: clientId, on: connection)
                return (id, try WebhookDeliveryLog.recover(since: since, endpointId: id, clientId: clientId, by: call.audit, on: connection))
            }
            call.logChange("webhook.recover", clientId: clientId, [
                "webhook-id": .string(id.lowercasedString), "since": .string(Timestamp.format(since)), "deliveries": .stringConvertible(count),
            ])
            return .json(JSONWriter.serialize(.object(["deliveries": .number(Double(count))])), status: .accepted)
        })
    }

    /// `status` of the delivery log: one of the delivery states, else a 400.
    private static func deliveryStatus(_ request: Request) throws -> WebhookDeliveryLog.Status? {
        guard let text = try RequestSupport.queryValue(request, "status") else { return nil }
        guard let status = WebhookDeliveryLog.Status(rawValue: text) else {
            let names = WebhookDeliveryLog.Status.allCases.map(\.rawValue).joined(separator: ", ")
            throw Problem.badRequest("The query parameter status must be one of \(names), not \(text).")
        }
        return status
    }

    /// `eventId` of the delivery log: an event id (`evt_…`), else a 400.
    private static func deliveryEventId(_ request: Request) throws -> UUID? {
        guard let text = try RequestSupport.queryValue(request, "eventId") else { return nil }
        guard let id = WebhookDeliveryLog.parseEventId(text) else {
            throw Problem.badRequest("The query parameter eventId must be an event id such as evt_0193f4b2-6c1d-7a9e-8b3f-2d5e7c9a1b04, not \(text).")
        }
        return id
    }

    private static func webhookPath(_ clientId: String, _ id: UUID) -> String {
        "/admin/v1/clients/\(clientId)/webhook-endpoints/\(id.lowercasedString)"
    }

    /// What the log line of a change says of the endpoint: never its secret, nor its URL
    /// (a URL may carry a token in its query; the audit trail has it for those who may see it).
    private static func webhookLogFields(_ endpoint: WebhookEndpoint) -> Logger.Metadata {
        ["webhook-id": .string(endpoint.id.lowercasedString), "enabled": .stringConvertible(endpoint.enabled)]
    }
}
