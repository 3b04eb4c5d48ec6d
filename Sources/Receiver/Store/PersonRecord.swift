import Foundation
import Postgres

/// What prospects and members have in common, so one store and one set of
/// routes serve both: the same person fields, the same save/match/list rules.
protocol PersonRecord: Sendable {
    associatedtype Input: PersonInput
    /// The table, aliased `p` in `fromClause`.
    static var table: String { get }
    /// The columns of a record, selected from the row aliased `p`.
    static var selectList: String { get }
    static var resource: SyncErrorResource { get }
    /// "prospect" / "member", for messages.
    static var noun: String { get }
    /// "/v1/prospects" / "/v1/members".
    static var collectionPath: String { get }

    init(row: PostgresRow) throws
    /// What the database adds to a record a batch writes, beyond its input, its
    /// id and the transaction's clock: select-list items over `p`, each after a
    /// comma ("" when there is nothing). A batch reads these back, not the record.
    static var addedOnWrite: String { get }
    /// The record as a batch wrote it: `input` under `id`, inserted (`current` nil)
    /// or written over `current`, at `clock`; `row` holds `addedOnWrite`.
    init(written input: Input, id: UUID, over current: Self?, at clock: TransactionClock, row: PostgresRow) throws
    var id: UUID { get }
    var createdAt: Date { get }
    var version: Int { get }
    var updatedMicros: Int { get }
    var input: Input { get }
    var json: JSONObject { get }
}

extension PersonRecord {
    /// The FROM clause that goes with `selectList`.
    static var fromClause: String { "\(table) p" }
}

/// The time a transaction writes as `now()` (its start): `created_at` of what it
/// inserts, `updated_at` of all it writes.
struct TransactionClock: Sendable {
    let now: Date
    /// `now` in microseconds since the epoch, exact, as `updatedMicros`.
    let micros: Int

    /// Select-list items giving the clock; read with `init(row:)`.
    static let selectList = "now() AS transaction_now, (extract(epoch FROM now()) * 1000000)::bigint AS transaction_micros"

    init(row: PostgresRow) throws {
        now = try row.decode("transaction_now")
        micros = try row.decode("transaction_micros")
    }

    /// What a write at this clock over `current` (nil: an insert) makes of a
    /// record's timestamps and version.
    func stamps<Record: PersonRecord>(over current: Record?) -> (createdAt: Date, updatedAt: Date, version: Int, updatedMicros: Int) {
        (current?.createdAt ?? now, now, (current?.version ?? 0) + 1, micros)
    }
}

/// A prospect or member as written by the Connector.
protocol PersonInput: Sendable, Equatable {
    var person: PersonFields { get set }
    static func parse(_ object: JSONObject) -> Result<Self, ValidationFailure>
    /// The writable fields as JSON (the target of a merge patch).
    var json: JSONObject { get }
    /// Columns beyond the shared person columns, with their values.
    func extraColumns() throws -> [(String, PostgresBinding)]
    /// Checks references to other records of the client (422 on the field).
    func checkReferences(clientId: String, on connection: PostgresConnection) throws
    /// Whether `checkReferences` has anything to check.
    var hasReferences: Bool { get }
}

extension ProspectInput: PersonInput {
    func extraColumns() throws -> [(String, PostgresBinding)] {
        [
            ("lead_source_id", PostgresBinding(try leadSourceUUID())),
            ("staff_owner_email", PostgresBinding(staffOwnerEmail)),
            ("status", PostgresBinding(status)),
        ]
    }

    func leadSourceUUID() throws -> UUID? {
        guard let leadSourceId else { return nil }
        guard let id = RecordID.parse(leadSourceId) else { throw Self.unknownLeadSource }
        return id
    }

    var hasReferences: Bool { leadSourceId != nil }

    static let unknownLeadSource = Problem.invalidField("leadSourceId", "is not one of your lead sources")

    func checkReferences(clientId: String, on connection: PostgresConnection) throws {
        guard let id = try leadSourceUUID() else { return }
        guard try LeadSourceStore.find(id, clientId: clientId, on: connection) != nil else { throw Self.unknownLeadSource }
    }
}

extension Prospect: PersonRecord {
    /// The staff owner is found by email (in the same way as `selectList`).
    static let addedOnWrite = ", staff_id_by_email(p.client_id, p.staff_owner_email) AS staff_owner_id"

    init(written input: ProspectInput, id: UUID, over current: Prospect?, at clock: TransactionClock, row: PostgresRow) throws {
        self.id = id
        person = input.person
        leadSourceId = try input.leadSourceUUID()
        staffOwnerEmail = input.staffOwnerEmail
        staffOwnerId = try row.decode("staff_owner_id")
        status = input.status
        memberId = current?.memberId
        (createdAt, updatedAt, version, updatedMicros) = clock.stamps(over: current)
    }

    static let table = "prospects"
    static let resource = SyncErrorResource.prospect
    static let noun = "prospect"
    static let collectionPath = "/v1/prospects"
}
