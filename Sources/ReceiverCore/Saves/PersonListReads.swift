import Foundation
import Postgres

/// Pages of prospects or members, many in one round trip, each read's
/// credential looked up beside its page (`AuthenticatedRead`).
///
/// The pages with the same filters given (and a cursor or not) share one
/// statement, whose text, and so whose plan, is `PersonStore.list`'s for those
/// filters, read once per page with the page's values; the statements of a
/// batch go in one pipeline.
package enum PersonListReads<Record: PersonRecord> {
    /// One outcome per read, in order: what it found, or the server's refusal of its statement.
    package static func run(_ reads: [PersonListRead], on connection: PostgresConnection) throws -> [Result<ClientRead<[Record]>, PostgresError>] {
        try AuthenticatedRead.run(reads, sharingBy: shape, credential: { $0.credential }, statement: statement, decode: Record.init(row:), on: connection)
    }

    /// The text of a read's conditions with each value a column: the same for reads that can share a statement.
    static func shape(_ read: PersonListRead) -> String {
        read.filter.conditions(clientId: "i.client_id", after: read.after) { _, column in "i.\(unescaped: column)" }.sql
    }

    /// One statement for reads of one shape.
    static func statement(_ reads: [PersonListRead]) -> PostgresQuery {
        var columns: [String] = []
        let conditions = reads[0].filter.conditions(clientId: "i.client_id", after: reads[0].after) { _, column in
            columns.append(column)
            return "i.\(unescaped: column)"
        }
        return AuthenticatedRead.statement(reads.map(\.credential), with: columns + ["lim"], { index in
            var values: [PostgresBinding] = []
            _ = reads[index].filter.conditions(clientId: "", after: reads[index].after) { value, _ in
                values.append(value)
                return ""
            }
            return values + [PostgresBinding(reads[index].page.limit + 1)]
        }, reading: """
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            JOIN clubs c ON c.client_id = p.client_id AND c.club_id = p.club_id
            WHERE \(conditions)
            ORDER BY \(unescaped: PersonStore<Record>.listOrder(of: "p"))
            LIMIT i.lim
            """, orderedBy: PersonStore<Record>.listOrder(of: "r"))
    }
}
