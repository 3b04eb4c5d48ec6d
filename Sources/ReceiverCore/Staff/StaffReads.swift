import Foundation
import Postgres

/// Pages of the staff list, many in one round trip, each read's credential
/// looked up beside its page (`AuthenticatedRead`).
///
/// The reads by email (a Connector looking up one staff member, the common case)
/// share one statement: each finds its one row by id through
/// `staff_id_by_email`. Each other page is a statement of its own (its plan is
/// `list`'s, a range of the client's index from the cursor on), sent in the
/// same pipeline.
package enum StaffReads {
    /// One outcome per read, in order: what it found, or the server's refusal of its statement.
    package static func run(_ reads: [StaffRead], on connection: PostgresConnection) throws -> [Result<ClientRead<[StaffRecord]>, PostgresError>] {
        let byEmail = reads.indices.filter { reads[$0].email != nil }
        let paged = reads.indices.filter { reads[$0].email == nil }
        var statements = paged.map { index in
            let read = reads[index]
            return AuthenticatedRead.statement(
                read.credential,
                StaffAdminStore.listQuery(clientId: read.credential.clientId, clubId: read.clubId, after: read.after, limit: read.limit),
                orderedBy: StaffAdminStore.listOrder(of: "r"))
        }
        if !byEmail.isEmpty { statements.append(byEmailStatement(byEmail.map { reads[$0] })) }
        let results = try AuthenticatedRead.pipeline(statements, on: connection)

        var outcomes = [Result<ClientRead<[StaffRecord]>, PostgresError>?](repeating: nil, count: reads.count)
        for (index, result) in zip(paged, results) {
            switch result {
            case .success(let rows): outcomes[index] = .success(try AuthenticatedRead.found(reads[index].credential, rows: rows, decode: StaffRecord.init(row:)))
            case .failure(let error): outcomes[index] = .failure(error)
            }
        }
        if let shared = byEmail.isEmpty ? nil : results.last {
            switch shared {
            case .success(let rows):
                for (index, rows) in zip(byEmail, try AuthenticatedRead.rowsByRead(rows, count: byEmail.count)) {
                    outcomes[index] = .success(try AuthenticatedRead.found(reads[index].credential, rows: rows, decode: StaffRecord.init(row:)))
                }
            case .failure(let error):
                for index in byEmail { outcomes[index] = .failure(error) }
            }
        }
        return outcomes.map { $0! }
    }

    /// One statement for the reads by email: the same conditions as `StaffAdminStore.list`'s.
    static func byEmailStatement(_ reads: [StaffRead]) -> PostgresQuery {
        AuthenticatedRead.statement(reads.map(\.credential), with: ["email", "club_id", "after_email", "after_id"], { index in
            let read = reads[index]
            return [PostgresBinding(read.email), PostgresBinding(read.clubId), PostgresBinding(read.after?.email), PostgresBinding(read.after?.id)]
        }, reading: """
            SELECT \(unescaped: StaffRecord.columns) FROM staff
            WHERE client_id = c.client_id AND id = staff_id_by_email(c.client_id, i.email)
              AND \(StaffAdminStore.pageConditions(clubId: "i.club_id", afterEmail: "i.after_email", afterId: "i.after_id"))
            """)
    }
}
