import Foundation
import Postgres

/// Reads of a client's rows that look up the credential asking for them in the
/// same statement: one round trip where there were two (the lookup, then the
/// read), shared by the reads that arrive together.
///
/// Such a statement selects, for each read, its index and the stored
/// credential's columns (`ClientAuthenticator.storedCredentialColumns`) and
/// beside them the rows read, `r.*`: a statement row per row read, one with
/// `r.*` null when nothing was found, none at all when no such credential exists
/// (and then nothing is read). The credential is then decided in Swift as
/// `ClientAuthenticator` decides it, against the database on every read (no
/// cache: a rotated, revoked or suspended credential is refused at once, on
/// every instance), and the rows are handed out only for a credential that passes.
package enum AuthenticatedRead {
    /// The statement of reads that share one: a row per read, `i` (its index `n`,
    /// the credential's `client_id` and `username`, then `columns`, of `values(n)`),
    /// the credential it presents, `c` and `cl`, and `read`, a read of that
    /// client's rows in terms of `i` and `c`, beside it. `order` is `read`'s
    /// order again, in terms of its rows `r`, for reads of many rows: the join
    /// keeps it in practice, but only an `ORDER BY` of the statement promises it.
    package static func statement(
        _ credentials: [ClientCredential], with columns: [String] = [], _ values: (Int) -> [PostgresBinding] = { _ in [] },
        reading read: PostgresQuery, orderedBy order: String? = nil
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
            \(unescaped: order.map { "ORDER BY i.n, \($0)" } ?? "")
            """
    }

    /// Runs `reads`, those with the same `key` in one statement (`statement`, made
    /// as above), every statement in one round trip, and returns what each read
    /// found (its rows `decode`d), or the server's refusal of its statement, in
    /// order. The reads of a statement the server refuses run again one a
    /// statement: only those that cause a refusal fail.
    package static func run<Read, Key: Hashable, Item: Sendable>(
        _ reads: [Read], sharingBy key: (Read) -> Key, credential: (Read) -> ClientCredential,
        statement: ([Read]) -> PostgresQuery, decode: (PostgresRow) throws -> Item, on connection: PostgresConnection
    ) throws -> [Result<ClientRead<[Item]>, PostgresError>] {
        var groups: [Key: [Int]] = [:]
        var keys: [Key] = []
        for index in reads.indices {
            let readKey = key(reads[index])
            if groups[readKey] == nil { keys.append(readKey) }
            groups[readKey, default: []].append(index)
        }
        let indices: [[Int]] = keys.map { groups[$0] ?? [] }
        let grouped: [[Read]] = indices.map { group in group.map { reads[$0] } }
        let rowsByGroup: [[Result<[PostgresRow], PostgresError>]] = try runGroups(grouped, statement: statement, on: connection)
        var outcomes = [Result<ClientRead<[Item]>, PostgresError>?](repeating: nil, count: reads.count)
        for (group, results) in zip(indices, rowsByGroup) {
            for (index, result) in zip(group, results) {
                switch result {
                case .success(let rows):
                    let read: ClientRead<[Item]> = try found(credential(reads[index]), rows: rows, decode: decode)
                    outcomes[index] = .success(read)
                case .failure(let error):
                    outcomes[index] = .failure(error)
                }
            }
        }
        return outcomes.map { $0! }
    }

    /// Each group's reads in one statement, every group's in one round trip: each read's rows, by group.
    private static func runGroups<Read>(
        _ groups: [[Read]], statement: ([Read]) -> PostgresQuery, on connection: PostgresConnection
    ) throws -> [[Result<[PostgresRow], PostgresError>]] {
        let results = try pipeline(groups.map(statement), on: connection)
        var byGroup: [[Result<[PostgresRow], PostgresError>]] = []
        for (group, result) in zip(groups, results) {
            switch result {
            case .success(let rows):
                byGroup.append(try rowsByRead(rows, count: group.count).map { .success($0) })
            case .failure(let error) where group.count == 1:
                byGroup.append([.failure(error)])
            case .failure:
                let alone = try pipeline(group.map { statement([$0]) }, on: connection)
                byGroup.append(try alone.map { result in
                    switch result {
                    case .success(let rows): return .success(try rowsByRead(rows, count: 1)[0])
                    case .failure(let error): return .failure(error)
                    }
                })
            }
        }
        return byGroup
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
