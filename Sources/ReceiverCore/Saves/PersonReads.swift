import Foundation
import Postgres

/// `GET …/{id}` as the core takes it: the credential as presented and the id as
/// the path gave it.
package struct PersonRead: Sendable {
    package let credential: ClientCredential
    package let id: String

    package init(credential: ClientCredential, id: String) {
        (self.credential, self.id) = (credential, id)
    }
}

/// What one read found: whom the credential authenticates (or why not), and the
/// record, which is the caller's to hand out only to that client.
package struct PersonReadResult<Record: PersonRecord>: Sendable {
    package let client: Result<AuthenticatedClient, ReceiverError>
    package let found: Record?
    let id: String

    /// The record, or `notFound` (the same answer as `PersonWrites.require`).
    package func record() throws(ReceiverError) -> Record {
        guard let found else { throw PersonWrites<Record>.notFound(id) }
        return found
    }
}

/// Reads of one record each, many in one statement: each read's credential is
/// looked up as `ClientAuthenticator` looks it up, and its record beside it, so a
/// read is one round trip, shared with the reads that arrived with it.
///
/// The credential is still checked on every read against the database (no cache),
/// so a rotated, revoked or suspended credential is refused at once on every
/// instance. The record is read for any credential that exists; the password and
/// the client's status are checked afterwards, in Swift (`ClientAuthenticator`),
/// and a record is handed out only to a read whose credential passes.
package enum PersonReads<Record: PersonRecord> {
    package static func run(_ reads: [PersonRead], on connection: PostgresConnection) throws -> [PersonReadResult<Record>] {
        let rows = try AuthenticatedRead.rowsByRead(try connection.query(statement(reads)), count: reads.count)
        return try zip(reads, rows).map { read, rows in
            let found = try AuthenticatedRead.found(read.credential, rows: rows, decode: Record.init(row:))
            return PersonReadResult(client: found.client, found: found.value.first, id: read.id)
        }
    }

    /// One statement for the whole batch; a malformed id is bound as null and finds nothing.
    static func statement(_ reads: [PersonRead]) -> PostgresQuery {
        AuthenticatedRead.statement(reads.map(\.credential), with: ["id"], { [PostgresBinding(RecordID.parse(reads[$0].id))] }, reading: """
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            WHERE p.client_id = c.client_id AND p.id = i.id
            """)
    }
}
