import Foundation
import Postgres

/// Pages of the staff list, many in one round trip, each read's credential
/// looked up beside its page (`AuthenticatedRead`).
///
/// The reads by email (a Connector looking up one staff member, the common case)
/// share one statement: each finds its one row by id through
/// `staff_id_by_email`. The other pages share another, each a range of the
/// client's staff in the list's order. Both go in one pipeline.
package enum StaffReads {
    /// One outcome per read, in order: what it found, or the server's refusal of its statement.
    package static func run(_ reads: [StaffRead], on connection: PostgresConnection) throws -> [Result<ClientRead<[StaffRecord]>, PostgresError>] {
        try AuthenticatedRead.run(
            reads, sharingBy: { $0.email != nil }, credential: { $0.credential }, statement: statement, decode: StaffRecord.init(row:), on: connection)
    }

    /// One statement for reads all by email or all not: the same conditions as `StaffAdminStore.list`'s.
    static func statement(_ reads: [StaffRead]) -> PostgresQuery {
        let byEmail = reads[0].email != nil
        return AuthenticatedRead.statement(reads.map(\.credential), with: ["email", "club_id", "after_email", "after_id", "lim"], { index in
            let read = reads[index]
            return [PostgresBinding(read.email), PostgresBinding(read.clubId), PostgresBinding(read.after?.email), PostgresBinding(read.after?.id),
                    PostgresBinding(read.limit)]
        }, reading: """
            SELECT \(unescaped: StaffRecord.columns) FROM staff
            WHERE client_id = c.client_id \(unescaped: byEmail ? "AND id = staff_id_by_email(c.client_id, i.email)" : "")
              AND \(StaffAdminStore.pageConditions(clubId: "i.club_id", afterEmail: "i.after_email", afterId: "i.after_id"))
            \(unescaped: byEmail ? "" : "ORDER BY \(StaffAdminStore.listOrder(of: "staff")) LIMIT i.lim")
            """, orderedBy: byEmail ? nil : StaffAdminStore.listOrder(of: "r"))
    }
}
