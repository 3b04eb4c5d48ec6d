import Foundation
import Postgres

/// The other writes of prospects and members, beside the save by external id
/// (`SaveBatch`): create, merge patch, and reading them back. Each runs on the
/// caller's connection, inside the caller's transaction, and writes through
/// `PersonStore.write` like every other write.
package enum PersonWrites<Record: PersonRecord> {
    package typealias Store = PersonStore<Record>

    /// Creates a record. An external id the client already uses is a conflict
    /// naming the record that has it.
    package static func create(_ input: Record.Input, clientId: String, on connection: PostgresConnection) throws -> Record {
        try Store.checkReferences(input, clientId: clientId, on: connection)
        if let externalId = input.person.externalId,
           let existing = try Store.find(externalId: externalId, clientId: clientId, on: connection) {
            throw externalIdTaken(externalId, existingId: existing.id)
        }
        return try catchingExternalIdConflict(input.person.externalId) {
            try Store.write(clientId: clientId, id: RecordID.make(), input: input, current: nil, on: connection)
        }
    }

    /// Applies a JSON merge patch (RFC 7396) to the record `id`, locked, if
    /// `condition` holds; the version moves only when a field changes. Run it in a
    /// transaction.
    package static func patch(
        _ id: String, with patch: JSONObject, condition: VersionCondition?, clientId: String, on connection: PostgresConnection
    ) throws -> Record {
        let current = try require(id, clientId: clientId, on: connection, forUpdate: true)
        try condition.check(currentVersion: current.version)
        let merged = JSONMergePatch.apply(.object(patch), to: .object(current.input.json)).objectValue ?? [:]
        let input = try Record.Input.parse(merged).validated()
        guard input != current.input else { return current }
        try Store.checkReferences(input, clientId: clientId, on: connection)
        if let externalId = input.person.externalId, externalId != current.input.person.externalId,
           let existing = try Store.find(externalId: externalId, clientId: clientId, on: connection) {
            throw externalIdTaken(externalId, existingId: existing.id)
        }
        return try catchingExternalIdConflict(input.person.externalId) {
            try Store.write(clientId: clientId, id: current.id, input: input, current: current, on: connection)
        }
    }

    /// The record `id` of the client, or `notFound`.
    package static func require(_ id: String, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> Record {
        guard let uuid = RecordID.parse(id), let record = try Store.find(uuid, clientId: clientId, on: connection, forUpdate: forUpdate)
        else { throw notFound(id) }
        return record
    }

    /// No record `id` of the client (or none the caller may see).
    package static func notFound(_ id: String) -> ReceiverError {
        .notFound("No \(Record.noun) with id \(id).")
    }

    /// A page of the client's records.
    package static func list(clientId: String, filter: PersonListFilter, page: Page, on connection: PostgresConnection) throws -> [Record] {
        try Store.list(clientId: clientId, filter: filter, page: page, on: connection)
    }

    package static func sortKey(_ record: Record) -> [String] { Store.sortKey(record) }

    package static func externalIdTaken(_ externalId: String, existingId: UUID?) -> ReceiverError {
        .conflict("A \(Record.noun) with externalId \(externalId) already exists.", existingId: existingId)
    }

    /// A concurrent write took the external id between the check and the write.
    package static func catchingExternalIdConflict<T>(_ externalId: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where Store.isExternalIdConflict(error) {
            throw externalIdTaken(externalId ?? "", existingId: nil)
        }
    }
}
