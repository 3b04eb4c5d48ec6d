import Foundation
import Postgres

extension PersonListFilter {
    /// The `WHERE` conditions of a list page over records `p` joined with their
    /// clubs `c`: the client, then only the filters given.
    ///
    /// A filter left out is not in the text at all (rather than `$n IS NULL OR …`):
    /// each combination of filters is its own prepared statement, whose generic
    /// plan can use the index made for it — `clubId` with `updatedSince` and the
    /// cursor is a range of `(client_id, club_id, updated_at, id)`
    /// (`prospects_club_updated`), never a scan of the whole client's records.
    func conditions(clientId: String, after: (micros: Int, id: UUID)?) -> PostgresQuery {
        conditions(clientId: "\(clientId)", after: after) { value, _ in "\(value)" }
    }

    /// The same conditions, each value written as `value(it, column)`: the value
    /// bound (one read), or the `column` of a batch's rows, for reads with the
    /// same filters given (and a cursor or not), which share the text.
    func conditions(
        clientId: PostgresQuery, after: (micros: Int, id: UUID)?, value: (PostgresBinding, _ column: String) -> PostgresQuery
    ) -> PostgresQuery {
        var conditions: [PostgresQuery] = ["p.client_id = \(clientId)"]
        if !includeDisabledClubs { conditions.append("c.enabled") }
        if let clubId { conditions.append("p.club_id = \(value(PostgresBinding(clubId), "club_id"))") }
        if let email { conditions.append("lower(p.email) = lower(\(value(PostgresBinding(email), "email")))") }
        if let externalId { conditions.append("p.external_id = \(value(PostgresBinding(externalId), "external_id"))") }
        if let updatedSince { conditions.append("p.updated_at >= \(value(PostgresBinding(updatedSince), "updated_since"))") }
        if let after {
            let micros = value(PostgresBinding(after.micros), "after_micros"), id = value(PostgresBinding(after.id), "after_id")
            conditions.append("(p.updated_at, p.id) > ('epoch'::timestamptz + \(micros) * interval '1 microsecond', \(id))")
        }
        return conditions.dropFirst().reduce(conditions[0]) { "\($0) AND \($1)" }
    }
}
