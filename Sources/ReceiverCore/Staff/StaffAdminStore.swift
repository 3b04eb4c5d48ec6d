import Foundation
import Postgres

/// SQL for staff as the admins manage them: upsert by email, deactivate, list.
/// Changes lock the client's row first (see `ClientStore`), so concurrent
/// upserts of one email take turns instead of racing to the unique index.
public enum StaffAdminStore {
    /// Where a page of the staff list starts: after the (email, id) of its cursor.
    package static func after(_ page: Page) throws(ReceiverError) -> (email: String, id: UUID)? {
        guard let key = page.after else { return nil }
        guard let id = UUID(uuidString: key[1]) else { throw .foreignCursor }
        return (key[0], id)
    }

    /// A client's staff, active and inactive, ordered by email (case-insensitively)
    /// then id, those after `after`, at most `limit`; optionally only those of
    /// one club or with one email (the Connector's `GET /v1/staff` filters).
    public static func list(
        clientId: String, clubId: String? = nil, email: String? = nil,
        after: (email: String, id: UUID)?, limit: Int, on connection: PostgresConnection
    ) throws -> [StaffRecord] {
        if let email {
            // At most one staff member: found by id through `staff_id_by_email`, in
            // a statement of its own. One statement for both cases would have one
            // generic plan, which scans the whole list and lowercases every email.
            return try connection.query("""
                SELECT \(unescaped: StaffRecord.columns) FROM staff
                WHERE client_id = \(clientId) AND id = staff_id_by_email(\(clientId), \(email))
                  AND \(pageConditions(clubId: "\(clubId)", afterEmail: "\(after?.email)", afterId: "\(after?.id)"))
                LIMIT \(limit)
                """).map(StaffRecord.init(row:))
        }
        return try connection.query(listQuery(clientId: clientId, clubId: clubId, after: after, limit: limit)).map(StaffRecord.init(row:))
    }

    /// The statement of `list` without an email.
    package static func listQuery(clientId: String, clubId: String?, after: (email: String, id: UUID)?, limit: Int) -> PostgresQuery {
        """
        SELECT \(unescaped: StaffRecord.columns) FROM staff
        WHERE client_id = \(clientId) AND \(pageConditions(clubId: "\(clubId)", afterEmail: "\(after?.email)", afterId: "\(after?.id)"))
        ORDER BY \(unescaped: listOrder(of: "staff"))
        LIMIT \(limit)
        """
    }

    /// The order of the list, of the staff rows named `table`.
    package static func listOrder(of table: String) -> String {
        "lower(\(table).email), \(table).id"
    }

    /// The conditions on the staff of a page besides the client (and the email):
    /// at club `clubId` and after the cursor's `afterEmail` and `afterId`, each
    /// where not null. Bound values, or the columns of a batch's rows.
    package static func pageConditions(clubId: PostgresQuery, afterEmail: PostgresQuery, afterId: PostgresQuery) -> PostgresQuery {
        """
        (\(clubId)::text IS NULL OR \(clubId) = ANY (club_ids))
          AND (\(afterEmail)::text IS NULL OR (lower(email), id) > (lower(\(afterEmail)), \(afterId)))
        """
    }

    /// The cursor key of a staff member in `list`'s order.
    public static func sortKey(_ staff: StaffRecord) -> [String] {
        [staff.email.lowercased(), staff.id.lowercasedString]
    }

    /// The staff member with this email (case-insensitively), or nil.
    public static func find(email: String, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> StaffRecord? {
        try connection.query("""
            SELECT \(unescaped: StaffRecord.columns) FROM staff
            WHERE client_id = \(clientId) AND id = staff_id_by_email(\(clientId), \(email)) \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """).first.map(StaffRecord.init(row:))
    }

    /// Adds (`created` true) or overwrites the staff member with `input.email`.
    /// An existing one keeps its id and takes the new spelling of the email.
    /// `precondition` sees the current record (nil when new) before anything is
    /// written: the place for `If-Match`. Every club must be one of the client's
    /// (422 on `clubIds`). Audited as `staff.create` or `staff.update`.
    public static func upsert(
        _ input: StaffInput, clientId: String, condition: VersionCondition? = nil, by audit: AuditContext, on connection: PostgresConnection
    ) throws -> (staff: StaffRecord, created: Bool) {
        try connection.transaction { connection in
            let client = try ClientStore.lock(clientId, on: connection)
            let existing = try find(email: input.email, clientId: clientId, on: connection, forUpdate: true)
            try condition.check(currentVersion: existing?.version)
            let known = Set(client.clubs.map(\.clubId))
            let unknown = input.clubIds.filter { !known.contains($0) }
            if !unknown.isEmpty {
                throw ReceiverError.invalidField("clubIds", "\(unknown.joined(separator: ", ")) \(unknown.count == 1 ? "is not a club" : "are not clubs") of client \(clientId)")
            }
            guard let existing else {
                let row = try connection.query("""
                    INSERT INTO staff (client_id, id, email, first_name, last_name, role, active, club_ids)
                    VALUES (\(clientId), \(RecordID.make()), \(input.email), \(input.firstName), \(input.lastName),
                            \(input.role), \(input.active), \(input.clubIds))
                    RETURNING \(unescaped: StaffRecord.columns)
                    """)
                var changes = input.json
                changes["email"] = .string(input.email)
                try AuditLog.record("staff.create", clientId: clientId, changes: changes, by: audit, on: connection)
                let staff = try StaffRecord(row: row[0])
                try recordEvent(staff, created: true, clientId: clientId, on: connection)
                return (staff, true)
            }
            var changes: JSONObject = ["email": .string(input.email)]
            let before = existing.input.json, after = input.json
            for (name, value) in after.members where before[name] != value {
                changes[name] = AuditLog.change(before[name] ?? .null, value)
            }
            if existing.email != input.email { changes["email"] = AuditLog.change(.string(existing.email), .string(input.email)) }
            guard changes.members.count > 1 || existing.email != input.email else { return (existing, false) }
            let row = try connection.query("""
                UPDATE staff
                SET email = \(input.email), first_name = \(input.firstName), last_name = \(input.lastName), role = \(input.role),
                    active = \(input.active), club_ids = \(input.clubIds), updated_at = now(), version = version + 1,
                    event_xid = \(unescaped: EventLog.nextPosition(of: "staff"))
                WHERE client_id = \(clientId) AND id = \(existing.id)
                RETURNING \(unescaped: StaffRecord.columns)
                """)
            try AuditLog.record("staff.update", clientId: clientId, changes: changes, by: audit, on: connection)
            let staff = try StaffRecord(row: row[0])
            try recordEvent(staff, created: false, clientId: clientId, on: connection)
            return (staff, false)
        }
    }

    /// Sets `active: false`; the record stays (the Connector still sees it,
    /// inactive). 404 for an unknown client or email. Already inactive: nothing
    /// is written. Audited as `staff.deactivate`.
    public static func deactivate(email: String, clientId: String, by audit: AuditContext, on connection: PostgresConnection) throws -> StaffRecord {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            guard let existing = try find(email: email, clientId: clientId, on: connection, forUpdate: true) else {
                throw ReceiverError.notFound("No staff member with email \(email) at client \(clientId).")
            }
            guard existing.active else { return existing }
            let row = try connection.query("""
                UPDATE staff SET active = false, updated_at = now(), version = version + 1, event_xid = \(unescaped: EventLog.nextPosition(of: "staff"))
                WHERE client_id = \(clientId) AND id = \(existing.id)
                RETURNING \(unescaped: StaffRecord.columns)
                """)
            try AuditLog.record("staff.deactivate", clientId: clientId, changes: [
                "email": .string(existing.email), "active": AuditLog.change(.bool(true), .bool(false)),
            ], by: audit, on: connection)
            let staff = try StaffRecord(row: row[0])
            try recordEvent(staff, created: false, clientId: clientId, on: connection)
            return staff
        }
    }

    /// `staff.created` or `staff.updated` (a deactivation is an update), in the write's transaction.
    private static func recordEvent(_ staff: StaffRecord, created: Bool, clientId: String, on connection: PostgresConnection) throws {
        try EventLog.record([NewEvent(
            type: created ? "staff.created" : "staff.updated", clientId: clientId, clubId: nil,
            recordId: staff.id, version: staff.version, data: staff.json)], of: "staff", on: connection)
    }
}
