import Foundation
import Postgres

/// What prospects and members have in common, so one store and one set of
/// routes serve both: the same person fields, the same save/match/list rules.
package protocol PersonRecord: Sendable {
    associatedtype Input: PersonInput
    /// The table, aliased `p` in `fromClause`.
    static var table: String { get }
    /// The columns of a record, selected from the row aliased `p`.
    static var selectList: String { get }
    static var resource: SyncErrorResource { get }
    /// "prospect" / "member", for messages.
    static var noun: String { get }
    /// The column naming the record a new one comes from (a member's prospect), if any.
    static var linkColumn: String? { get }

    /// The kinds of event its changes are: `prospect` / `member` (`prospect.created`, …).
    static var eventPrefix: String { get }

    init(row: PostgresRow) throws
    /// The record as it will be written: `input` under `id`, inserted (`current`
    /// nil, from `linked`) or written over `current`, at `clock`. `staffOwnerId` is
    /// what the database finds for the input's `staffOwnerEmail` (see `PersonInput`).
    init(written input: Input, id: UUID, over current: Self?, linked: UUID?, at clock: TransactionClock, staffOwnerId: UUID?) throws
    var id: UUID { get }
    var createdAt: Date { get }
    var version: Int { get }
    var updatedMicros: Int { get }
    var input: Input { get }
    var json: JSONObject { get }
}

extension PersonRecord {
    /// The FROM clause that goes with `selectList`.
    package static var fromClause: String { "\(table) p" }
}

/// The time a transaction writes as `now()` (its start): `created_at` of what it
/// inserts, `updated_at` of all it writes.
package struct TransactionClock: Sendable {
    package let now: Date
    /// `now` in microseconds since the epoch, exact, as `updatedMicros`.
    package let micros: Int

    /// Select-list items giving the clock; read with `init(row:)`.
    package static let selectList = "now() AS transaction_now, (extract(epoch FROM now()) * 1000000)::bigint AS transaction_micros"

    /// Asks the database for the clock of the open transaction, and the staff
    /// member with `staffOwnerEmail` (nil for none) for a record about to be written.
    package static func read(clientId: String, staffOwnerEmail: String?, on connection: PostgresConnection) throws -> (TransactionClock, UUID?) {
        let row = try connection.query("""
            SELECT \(unescaped: selectList), staff_id_by_email(\(clientId), \(staffOwnerEmail)) AS staff_owner_id
            """)[0]
        return (try TransactionClock(row: row), try row.decode("staff_owner_id"))
    }

    package init(row: PostgresRow) throws {
        now = try row.decode("transaction_now")
        micros = try row.decode("transaction_micros")
    }

    /// What a write at this clock over `current` (nil: an insert) makes of a
    /// record's timestamps and version.
    package func stamps<Record: PersonRecord>(over current: Record?) -> (createdAt: Date, updatedAt: Date, version: Int, updatedMicros: Int) {
        (current?.createdAt ?? now, now, (current?.version ?? 0) + 1, micros)
    }
}

/// A prospect or member as written by the Connector.
package protocol PersonInput: Sendable, Equatable {
    var person: PersonFields { get set }
    static func parse(_ object: JSONObject) -> Result<Self, ValidationFailure>
    /// The writable fields as JSON (the target of a merge patch).
    var json: JSONObject { get }
    /// Columns beyond the shared person columns, with their values.
    func extraColumns() throws -> [(String, PostgresBinding)]
    /// The lead source the input refers to, if any; `unknownLeadSource` when the
    /// reference cannot name one.
    func leadSourceReference() throws(ReceiverError) -> UUID?
    /// The email of the staff member who owns the record, if the kind has one.
    var staffOwnerEmail: String? { get }
}

extension ProspectInput: PersonInput {
    package func extraColumns() throws -> [(String, PostgresBinding)] {
        [
            ("lead_source_id", PostgresBinding(try leadSourceReference())),
            ("staff_owner_email", PostgresBinding(staffOwnerEmail)),
            ("status", PostgresBinding(status)),
        ]
    }

    package func leadSourceReference() throws(ReceiverError) -> UUID? {
        guard let leadSourceId else { return nil }
        guard let id = RecordID.parse(leadSourceId) else { throw Self.unknownLeadSource }
        return id
    }

    package static let unknownLeadSource = ReceiverError.invalidField("leadSourceId", "is not one of your lead sources")
}

extension Prospect: PersonRecord {
    package static let eventPrefix = "prospect"

    package init(written input: ProspectInput, id: UUID, over current: Prospect?, linked: UUID?, at clock: TransactionClock, staffOwnerId: UUID?) throws {
        self.id = id
        person = input.person
        leadSourceId = try input.leadSourceReference()
        staffOwnerEmail = input.staffOwnerEmail
        self.staffOwnerId = staffOwnerId
        status = input.status
        memberId = current?.memberId
        (createdAt, updatedAt, version, updatedMicros) = clock.stamps(over: current)
    }

    package static let table = "prospects"
    package static let resource = SyncErrorResource.prospect
    package static let noun = "prospect"
    package static let linkColumn: String? = nil
}
