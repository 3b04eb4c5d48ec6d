import Foundation
import OutboundHTTP
import Postgres

/// A pending delivery this instance has claimed and is about to send, with what sending needs.
package struct ClaimedDelivery: Sendable {
    package var clientId: String
    package var endpointId: UUID
    package var id: Int64
    package var eventId: UUID
    /// The event JSON, sent byte for byte as signed.
    package var body: [UInt8]
    package var url: String
    /// The current secret, then the previous one while its rotation overlap lasts.
    package var secrets: [WebhookSecret]
    /// Failed attempts in the current schedule (the step the next failure moves past).
    package var scheduleStep: Int

    /// `webhook-id`: the event's id as the feed spells it, the same on every attempt.
    package var webhookId: String { "evt_" + eventId.lowercasedString }

    package init(row: PostgresRow) throws {
        clientId = try row.decode("client_id")
        endpointId = try row.decode("endpoint_id")
        id = try row.decode("id")
        eventId = try row.decode("event_id")
        body = Array(try row.decode("body", as: String.self).utf8)
        url = try row.decode("url")
        var secrets = [try WebhookSecret(parsing: try row.decode("secret", as: String.self))]
        if let previous = try row.decode("previous_secret", as: String?.self) {
            secrets.append(try WebhookSecret(parsing: previous))
        }
        self.secrets = secrets
        scheduleStep = try row.decode("schedule_step")
    }

    /// The signed POST of this attempt at `timestamp` (Unix seconds).
    package func request(timestamp: Int64, refusePrivateAddresses: Bool, startDeadline: ContinuousClock.Instant) -> OutboundRequest {
        OutboundRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/json")]
                + WebhookSignature.headers(id: webhookId, timestamp: timestamp, body: body, secrets: secrets),
            body: body, totalTimeout: .seconds(15),
            refusePrivateAddresses: refusePrivateAddresses, startDeadline: startDeadline)
    }
}
