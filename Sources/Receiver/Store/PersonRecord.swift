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
    var id: UUID { get }
    var version: Int { get }
    var updatedMicros: Int { get }
    var input: Input { get }
    var json: JSONObject { get }
}

extension PersonRecord {
    /// The FROM clause that goes with `selectList`.
    static var fromClause: String { "\(table) p" }
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

    private func leadSourceUUID() throws -> UUID? {
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
    static let table = "prospects"
    static let resource = SyncErrorResource.prospect
    static let noun = "prospect"
    static let collectionPath = "/v1/prospects"
}
