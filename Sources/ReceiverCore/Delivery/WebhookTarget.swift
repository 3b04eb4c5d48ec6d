import Foundation
import Postgres

/// An endpoint as the delivery engine sees it on each pass: where its fan-out stands, what it
/// takes, and whether and how fast it may be sent to.
package struct WebhookTarget: Sendable {
    package var clientId: String
    package var endpointId: UUID
    package var eventTypes: [String]
    package var clubIds: [String]
    package var enabled: Bool
    package var failing: Bool
    package var rateLimit: Int?
    /// Every event at or before it has been fanned out to the endpoint.
    package var position: FeedCursor

    /// Every endpoint with its position: one statement.
    package static func all(on connection: PostgresConnection) throws -> [WebhookTarget] {
        try connection.query("""
            SELECT e.client_id, e.id, e.event_types, e.club_ids, e.enabled, e.failing_since IS NOT NULL AS failing, e.rate_limit,
                   p.pos_xid::text AS pos_xid, p.seq, p.micros
            FROM webhook_endpoints e JOIN webhook_positions p ON p.endpoint_id = e.id
            ORDER BY e.client_id, e.id
            """).map { row in
            WebhookTarget(
                clientId: try row.decode("client_id"), endpointId: try row.decode("id"),
                eventTypes: try row.decode("event_types"), clubIds: try row.decode("club_ids"),
                enabled: try row.decode("enabled"), failing: try row.decode("failing"), rateLimit: try row.decode("rate_limit"),
                position: FeedCursor(positionXid: UInt64(try row.decode("pos_xid", as: String.self)) ?? 0,
                                     seq: try row.decode("seq"), micros: try row.decode("micros")))
        }
    }

    /// Whether the endpoint takes `event` (its types and clubs; empty lists take all).
    package func takes(_ event: FeedEvent) -> Bool {
        (eventTypes.isEmpty || eventTypes.contains(event.type))
            && (clubIds.isEmpty || event.clubId.map(clubIds.contains) == true)
    }
}
