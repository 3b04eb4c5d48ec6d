import Foundation
import Postgres

/// The outbox: every change to a client's prospects, members, lead sources and
/// staff is recorded here, by the statement or transaction that makes it.
package enum EventLog {
    /// The events of `events` as rows for `inserting(rowsOf:from:)`, one array per column.
    package static func rows(_ events: [NewEvent]) -> PostgresColumns {
        var rows = PostgresColumns(["record_id", "id", "type", "club_id", "version", "data"])
        for event in events {
            rows.append([PostgresBinding(event.recordId), PostgresBinding(event.id), PostgresBinding(event.type),
                         PostgresBinding(event.clubId), PostgresBinding(event.version),
                         PostgresBinding(text: String(decoding: event.data, as: UTF8.self), dataType: .text)])
        }
        return rows
    }

    /// `INSERT INTO events …` of `rows` (from `rows(_:)`), each joined by its
    /// record id to `written`, the records just written (a FROM item aliased `w`,
    /// with `client_id`, `id` and `event_xid`), whose `event_xid` places the event.
    /// The one statement that records events.
    package static func inserting(rowsOf rows: PostgresColumns, from written: PostgresQuery) -> PostgresQuery {
        """
        INSERT INTO events (client_id, pos_xid, occurred_at, id, type, club_id, record_id, version, data)
        SELECT w.client_id, w.event_xid, now(), x.id, x.type, x.club_id, w.id, x.version, x.data
        FROM \(written) JOIN \(rows: rows, as: "x") ON x.record_id = w.id
        """
    }

    /// Records the events of records written by earlier statements of the open
    /// transaction in `table` (each write set the record's `event_xid`).
    package static func record(_ events: [NewEvent], of table: String, on connection: PostgresConnection) throws {
        guard let first = events.first else { return }
        let rows = rows(events)
        try connection.execute(inserting(rowsOf: rows, from: """
            (SELECT client_id, id, event_xid FROM \(unescaped: table)
             WHERE client_id = \(first.clientId) AND id = ANY(\(rows.array("record_id")))) w
            """))
    }

    /// What a write sets a record's `event_xid` to (`record` names the row being
    /// updated): its transaction's id, or the record's last event's position if
    /// that is higher, so that the record's events keep the order of its versions.
    package static func nextPosition(of record: String) -> String {
        "greatest(pg_current_xact_id(), \(record).event_xid)"
    }
}
