import Foundation
import Logging
import Postgres

/// Turning each endpoint's new events into pending deliveries, never skipping one.
///
/// An endpoint's position is a change feed cursor, and its events are read with the feed's own
/// query (``ChangeFeed/read(_:on:)``): only below the horizon, so no event can still appear
/// behind the position once it has moved past (ARCHITECTURE.md, "The change feed"). The
/// deliveries of a page and the position's move past it commit in one transaction, and the move
/// is conditional on the position being where the page was read from: two instances fanning
/// out the same endpoint at once insert its events once (the second finds the position moved
/// and rolls back). Disabled endpoints are fanned out too, so their events wait as pending
/// deliveries whatever retention does to the events table.
package enum WebhookFanOut {
    /// What one pass did.
    package struct Report: Sendable {
        package var deliveriesCreated = 0
        /// Some endpoint had a full page: more is waiting now.
        package var more = false
    }

    /// Fans out up to `pageSize` events per endpoint for every endpoint whose client has news.
    package static func run(_ targets: [WebhookTarget], pageSize: Int, on connection: PostgresConnection, logger: Logger) throws -> Report {
        var report = Report()
        guard !targets.isEmpty else { return report }
        let pages = try read(targets, pageSize: pageSize, on: connection)
        for (target, page) in pages {
            guard let page else {
                // Only when no instance ran fan-out for longer than event retention: those
                // events are gone. Say so loudly and go on from the oldest event kept.
                logger.error("webhook fan-out: events after the endpoint's position were dropped by retention before they were delivered; continuing from the oldest event kept", metadata: [
                    "client": "\(target.clientId)", "endpoint": "\(target.endpointId.lowercasedString)"])
                report.more = true
                try move(target, from: target.position, to: .start, inserting: [], on: connection)
                continue
            }
            if page.events.count == pageSize { report.more = true }
            guard page.next != target.position else { continue }
            let events = page.events.filter(target.takes)
            if try move(target, from: target.position, to: page.next, inserting: events, on: connection) {
                report.deliveriesCreated += events.count
            }
        }
        return report
    }

    /// Up to this many endpoints, each pass reads every endpoint's page straight away (one
    /// round trip each, an empty page when nothing is new); beyond, one statement first finds
    /// the clients with news.
    static let readEveryEndpointUpTo = 16

    /// A page after each endpoint's position, for the endpoints that may have news; nil for
    /// an endpoint whose position retention has passed.
    private static func read(_ targets: [WebhookTarget], pageSize: Int, on connection: PostgresConnection) throws -> [(WebhookTarget, FeedPage?)] {
        func page(_ target: WebhookTarget, _ connection: PostgresConnection) throws -> FeedPage? {
            do {
                return try ChangeFeed.read(ChangeFeed.Query(
                    clientId: target.clientId, after: target.position, limit: pageSize,
                    types: target.eventTypes.isEmpty ? nil : target.eventTypes, clubId: nil), on: connection)
            } catch ReceiverError.cursorExpired {
                return nil
            }
        }
        if targets.count <= readEveryEndpointUpTo {
            return try targets.map { ($0, try page($0, connection)) }
        }
        var earliest: [String: FeedCursor] = [:]
        for target in targets {
            let current = earliest[target.clientId]
            earliest[target.clientId] = current.map { FeedCursor.furthest($0, target.position) == $0 ? target.position : $0 } ?? target.position
        }
        // In one transaction planned for the values at hand: the generic plan of the news
        // check hashes every event of the client, which a pass cannot afford.
        return try connection.transaction { connection in
            try connection.execute(customPlans)
            let news = try ChangeFeed.clientsWithNews(earliest.map { ($0.key, $0.value) }, on: connection)
            return try targets.filter { news.contains($0.clientId) }.map { ($0, try page($0, connection)) }
        }
    }

    /// Plans made for the values of each execution (see `read`).
    static var customPlans: PostgresQuery { "SET LOCAL plan_cache_mode = force_custom_plan" }

    /// Inserts `events` as pending deliveries to the target and moves its position from `from`
    /// to `to`, in one transaction; false (nothing done) when the position was no longer at `from`.
    @discardableResult
    private static func move(
        _ target: WebhookTarget, from: FeedCursor, to: FeedCursor, inserting events: [FeedEvent], on connection: PostgresConnection
    ) throws -> Bool {
        var rows = PostgresColumns(["event_id", "event_type", "record_id", "occurred_at", "body"])
        for event in events {
            rows.append([PostgresBinding(event.id), PostgresBinding(event.type), PostgresBinding(event.recordId),
                         PostgresBinding(event.occurredAt), PostgresBinding(String(decoding: event.json, as: UTF8.self))])
        }
        let move: PostgresQuery = """
            UPDATE webhook_positions SET pos_xid = \(String(to.positionXid))::xid8, seq = \(to.seq), micros = \(to.micros)
            WHERE client_id = \(target.clientId) AND endpoint_id = \(target.endpointId)
              AND pos_xid = \(String(from.positionXid))::xid8 AND seq = \(from.seq)
            RETURNING 1
            """
        guard !events.isEmpty else { return try !connection.query(move).isEmpty }
        // One statement, so one transaction: the deliveries are inserted only if the position moved.
        let moved = try connection.query("""
            WITH moved AS (
                \(move)
            ), inserted AS (
                INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, record_id, occurred_at, body)
                SELECT \(target.clientId), \(target.endpointId), x.event_id, x.event_type, x.record_id, x.occurred_at, x.body
                FROM \(rows: rows, as: "x")
                WHERE EXISTS (SELECT FROM moved)
                ON CONFLICT (endpoint_id, event_id) DO NOTHING
                RETURNING 1
            )
            SELECT EXISTS (SELECT FROM moved) AS moved, (SELECT count(*) FROM inserted) AS inserted
            """)
        return try moved[0].decode("moved", as: Bool.self)
    }
}
