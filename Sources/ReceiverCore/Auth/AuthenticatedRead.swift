import Foundation
import Postgres

/// Reads of a client's rows that look up the credential asking for them in the
/// same statement: one round trip where there were two (the lookup, then the read).
///
/// Such a statement selects the stored credential's columns
/// (`ClientAuthenticator.storedCredentialColumns`) and beside them the rows read,
/// `r.*`: a statement row per row read, one with `r.*` null when nothing was
/// found, none at all when no such credential exists (and then nothing is read).
/// The credential is then decided in Swift as `ClientAuthenticator` decides it,
/// against the database on every read (no cache: a rotated, revoked or suspended
/// credential is refused at once, on every instance), and the rows are handed
/// out only for a credential that passes.
package enum AuthenticatedRead {
    /// The statement of one read: `query`, a read of the client's rows that binds
    /// the client id itself (as it would alone), beside the credential's lookup.
    /// `order` is `query`'s order again, in terms of its rows `r`: the join keeps
    /// it in practice, but only an `ORDER BY` of the statement promises it.
    package static func statement(_ credential: ClientCredential, _ query: PostgresQuery, orderedBy order: String) -> PostgresQuery {
        """
        SELECT \(unescaped: ClientAuthenticator.storedCredentialColumns), r.*
        FROM credentials c JOIN clients cl ON cl.client_id = c.client_id
        LEFT JOIN LATERAL (\(query)) r ON true
        WHERE \(ClientAuthenticator.storedCredential(clientId: "\(credential.clientId)", username: "\(credential.username)"))
        ORDER BY \(unescaped: order)
        """
    }

    /// What one read found, from its rows of a statement made as above: the rows
    /// whose `present` column is not null, decoded only for a credential that passes.
    package static func found<Item: Sendable>(
        _ credential: ClientCredential, rows: some Collection<PostgresRow>, present: String = "id",
        decode: (PostgresRow) throws -> Item
    ) throws -> ClientRead<[Item]> {
        let client: AuthenticatedClient
        do {
            client = try ClientAuthenticator.client(credential, stored: rows.first)
        } catch let error as ReceiverError {
            return ClientRead(client: .failure(error), value: [])
        }  // any other error (a row that does not decode) is thrown, as `authenticate` throws it
        var items: [Item] = []
        for row in rows {
            if try row.decode(present, as: UUID?.self) != nil { items.append(try decode(row)) }
        }
        return ClientRead(client: .success(client), value: items)
    }

    /// The statement of reads that share one: a row per read, `i` (its index `n`,
    /// the credential's `client_id` and `username`, then `columns`, of `values(n)`),
    /// the credential it presents, `c` and `cl`, and `read`, a read of that
    /// client's rows in terms of `i` and `c`, beside it.
    package static func statement(
        _ credentials: [ClientCredential], with columns: [String] = [], _ values: (Int) -> [PostgresBinding] = { _ in [] },
        reading read: PostgresQuery
    ) -> PostgresQuery {
        var rows = PostgresColumns(["n", "client_id", "username"] + columns)
        for (index, credential) in credentials.enumerated() {
            rows.append([PostgresBinding(index), PostgresBinding(credential.clientId), PostgresBinding(credential.username)] + values(index))
        }
        return """
            SELECT i.n, \(unescaped: ClientAuthenticator.storedCredentialColumns), r.*
            FROM \(rows: rows, as: "i")
            JOIN credentials c ON \(ClientAuthenticator.storedCredential(clientId: "i.client_id", username: "i.username"))
            JOIN clients cl ON cl.client_id = c.client_id
            LEFT JOIN LATERAL (\(read)) r ON true
            """
    }

    /// The rows of a statement shared by `count` reads, which selects each row's
    /// read (its index, `n`) first: each read's rows, in the statement's order.
    package static func rowsByRead(_ rows: PostgresRows, count: Int) throws -> [[PostgresRow]] {
        var byRead = [[PostgresRow]](repeating: [], count: count)
        for row in rows { byRead[try row.decode(0, as: Int.self)].append(row) }
        return byRead
    }

    /// Runs the statements of a batch of reads in one round trip (a pipeline) and
    /// returns each one's rows, or the server's refusal of it. The server skips
    /// what follows a refused statement, so then each runs again alone: only the
    /// reads of the refused one fail. A broken connection is thrown (every read fails).
    package static func pipeline(_ statements: [PostgresQuery], on connection: PostgresConnection) throws -> [Result<PostgresRows, PostgresError>] {
        guard statements.count > 1 else { return try statements.map { try alone($0, on: connection) } }
        let together: [PostgresRows]
        do {
            together = try connection.pipeline(statements)
        } catch {
            guard error.kind == .server else { throw error }
            return try statements.map { try alone($0, on: connection) }
        }
        return together.map { .success($0) }
    }

    private static func alone(_ statement: PostgresQuery, on connection: PostgresConnection) throws -> Result<PostgresRows, PostgresError> {
        let rows: PostgresRows
        do {
            rows = try connection.query(statement)
        } catch {
            guard error.kind == .server else { throw error }
            return .failure(error)
        }
        return .success(rows)
    }
}
