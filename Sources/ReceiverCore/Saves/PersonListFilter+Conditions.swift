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
        var conditions: [PostgresQuery] = ["p.client_id = \(clientId)"]
        if !includeDisabledClubs { conditions.append("c.enabled") }
        if let clubId { conditions.append("p.club_id = \(clubId)") }
        if let email { conditions.append("lower(p.email) = lower(\(email))") }
        if let externalId { conditions.append("p.external_id = \(externalId)") }
        if let updatedSince { conditions.append("p.updated_at >= \(updatedSince)") }
        if let after {
            conditions.append("(p.updated_at, p.id) > ('epoch'::timestamptz + \(after.micros) * interval '1 microsecond', \(after.id))")
        }
        return conditions.dropFirst().reduce(conditions[0]) { "\($0) AND \($1)" }
    }
}
