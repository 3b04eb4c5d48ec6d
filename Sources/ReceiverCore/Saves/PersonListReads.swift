import Foundation
import Postgres

/// Pages of prospects or members, many in one round trip: each page is its own
/// statement (`PersonStore.list`'s, whose plan depends on the filters given),
/// with its credential looked up beside it (`AuthenticatedRead`), and a batch's
/// statements go in one pipeline.
package enum PersonListReads<Record: PersonRecord> {
    /// One outcome per read, in order: what it found, or the server's refusal of its statement.
    package static func run(_ reads: [PersonListRead], on connection: PostgresConnection) throws -> [Result<ClientRead<[Record]>, PostgresError>] {
        let statements = reads.map { read in
            AuthenticatedRead.statement(
                read.credential,
                PersonStore<Record>.listQuery(clientId: read.credential.clientId, filter: read.filter, after: read.after, limit: read.page.limit + 1),
                orderedBy: PersonStore<Record>.listOrder(of: "r"))
        }
        return try zip(reads, try AuthenticatedRead.pipeline(statements, on: connection)).map { read, result in
            switch result {
            case .success(let rows): .success(try AuthenticatedRead.found(read.credential, rows: rows, decode: Record.init(row:)))
            case .failure(let error): .failure(error)
            }
        }
    }
}
