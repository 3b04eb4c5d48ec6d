import Foundation
import Postgres

/// Reading a client's events in feed order (`GET /v1/changes`).
///
/// Why no event is ever skipped: an event's position is (`pos_xid`, `seq`), where
/// `pos_xid` is at least the id of the transaction that wrote it. A read returns
/// only events below the horizon: the oldest transaction still running when its
/// snapshot was taken (`pg_snapshot_xmin`). Every transaction with a lower id
/// has ended by then, so every event that will ever have a position below the
/// horizon is already committed and visible, or rolled back and gone; an event
/// yet to commit has a position at or above the horizon. A reader that continues
/// from the last position it read therefore sees every event exactly once, in
/// whatever order their transactions committed. What delays the feed: a
/// transaction that stays open holds the horizon back for every client until it
/// ends (`receiver_change_feed_horizon_lag_seconds` in `/metrics`).
package enum ChangeFeed {
    /// What a reader asks for.
    package struct Query: Sendable {
        package var clientId: String
        package var after: FeedCursor
        package var limit: Int
        /// nil: every type.
        package var types: [String]?
        package var clubId: String?

        package init(clientId: String, after: FeedCursor?, limit: Int, types: [String]?, clubId: String?) {
            (self.clientId, self.after, self.limit, self.types, self.clubId) = (clientId, after ?? .start, limit, types, clubId)
        }
    }

    /// The event types there are.
    package static let types = [
        "prospect.created", "prospect.updated", "prospect.converted", "member.created", "member.updated",
        "lead_source.created", "lead_source.updated", "staff.created", "staff.updated",
    ]

    /// A page of events after `query.after`; `cursorExpired` when retention has
    /// dropped events after it.
    package static func read(_ query: Query, on connection: PostgresConnection) throws -> FeedPage {
        let afterMicros: Int64? = query.after == .start ? nil : query.after.micros
        let rows = try connection.query("""
            WITH h AS (
                SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon,
                       (SELECT purged_before FROM event_retention) > to_timestamp(\(afterMicros)::bigint / 1000000.0) AS expired,
                       (extract(epoch FROM now()) * 1000000)::bigint AS now_micros
            )
            SELECT h.horizon::text AS horizon, coalesce(h.expired, false) AS expired, h.now_micros,
                   e.pos_xid::text AS pos_xid, e.seq, e.id, e.type, e.record_id, e.occurred_at,
                   (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS occurred_micros, e.club_id, e.data
            FROM h LEFT JOIN LATERAL (
                SELECT * FROM events e
                WHERE e.client_id = \(query.clientId)
                  AND (e.pos_xid, e.seq) > (\(String(query.after.positionXid))::xid8, \(query.after.seq))
                  AND e.pos_xid < h.horizon
                  AND (\(query.types)::text[] IS NULL OR e.type = ANY(\(query.types)))
                  AND (\(query.clubId)::text IS NULL OR e.club_id = \(query.clubId))
                ORDER BY e.pos_xid, e.seq
                LIMIT \(query.limit)
            ) e ON true
            """)
        guard let first = rows.first else { throw PostgresError(kind: .client, message: "the change feed's read returned no rows") }
        if try first.decode("expired", as: Bool.self) { throw ReceiverError.cursorExpired }
        var events: [FeedEvent] = []
        for row in rows where try row.decode("pos_xid", as: String?.self) != nil {
            let position = FeedCursor(
                positionXid: UInt64(try row.decode("pos_xid", as: String.self)) ?? 0, seq: try row.decode("seq"),
                micros: try row.decode("occurred_micros"))
            events.append(FeedEvent(
                id: try row.decode("id"), type: try row.decode("type"), recordId: try row.decode("record_id"), occurredAt: try row.decode("occurred_at"),
                clubId: try row.decode("club_id"), data: try row.decode("data"), position: position))
        }
        let next: FeedCursor
        if events.count == query.limit, let last = events.last {
            next = last.position
        } else {
            // Caught up: everything below the horizon was read, or left out by the filters.
            let horizon = UInt64(try first.decode("horizon", as: String.self)) ?? 0
            next = FeedCursor.furthest(events.last?.position ?? query.after, FeedCursor(below: horizon, at: try first.decode("now_micros")))
        }
        return FeedPage(events: events, next: next)
    }

    /// Of `waiting` (a client and the position its readers wait after), the
    /// clients that have events past that position below the horizon: one
    /// statement for every reader waiting on this instance.
    package static func clientsWithNews(_ waiting: [(clientId: String, after: FeedCursor)], on connection: PostgresConnection) throws -> Set<String> {
        guard !waiting.isEmpty else { return [] }
        var rows = PostgresColumns(["client_id", "xid", "seq"])
        for (clientId, after) in waiting {
            rows.append([PostgresBinding(clientId), PostgresBinding(String(after.positionXid)), PostgresBinding(after.seq)])
        }
        let found = try connection.query("""
            SELECT w.client_id FROM \(rows: rows, as: "w")
            WHERE EXISTS (
                SELECT FROM events e
                WHERE e.client_id = w.client_id AND (e.pos_xid, e.seq) > (w.xid::xid8, w.seq)
                  AND e.pos_xid < pg_snapshot_xmin(pg_current_snapshot()))
            """)
        return Set(try found.map { try $0.decode("client_id", as: String.self) })
    }
}
