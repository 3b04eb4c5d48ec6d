import Foundation
import Postgres

/// A member as stored.
struct Member: Sendable {
    var id: UUID
    var person: PersonFields
    var memberNumber: String?
    var membershipType: String?
    var membershipStatus: String?
    var joinDate: PostgresDate?
    var expiryDate: PostgresDate?
    var prospectId: UUID?
    var createdAt: Date
    var updatedAt: Date
    var version: Int
    /// `updated_at` in microseconds since the epoch, exact, for list cursors.
    var updatedMicros: Int

    static let selectList = "p.id, " + PersonFields.columnNames.map { "p.\($0)" }.joined(separator: ", ")
        + ", p.member_number, p.membership_type, p.membership_status, p.join_date, p.expiry_date, p.prospect_id"
        + ", p.created_at, p.updated_at, p.version, (extract(epoch FROM p.updated_at) * 1000000)::bigint AS updated_micros"

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        person = try PersonFields(row: row)
        memberNumber = try row.decode("member_number")
        membershipType = try row.decode("membership_type")
        membershipStatus = try row.decode("membership_status")
        joinDate = try row.decode("join_date")
        expiryDate = try row.decode("expiry_date")
        prospectId = try row.decode("prospect_id")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
        updatedMicros = try row.decode("updated_micros")
    }

    var input: MemberInput {
        MemberInput(person: person, memberNumber: memberNumber, membershipType: membershipType,
                    membershipStatus: membershipStatus, joinDate: joinDate, expiryDate: expiryDate)
    }

    var json: JSONObject {
        var members: [(name: String, value: JSONValue)] = [("id", .string(id.lowercasedString))]
        members += input.json.members
        members += [
            ("prospectId", .optional(prospectId?.lowercasedString)),
            ("createdAt", .string(Timestamp.format(createdAt))),
            ("updatedAt", .string(Timestamp.format(updatedAt))),
            ("version", .number(Double(version))),
        ]
        return JSONObject(members)
    }
}

extension MemberInput: PersonInput {
    var json: JSONObject {
        var members = person.jsonMembers()
        members += [
            ("memberNumber", .optional(memberNumber)),
            ("membershipType", .optional(membershipType)),
            ("membershipStatus", .optional(membershipStatus)),
            ("joinDate", .optional(joinDate?.description)),
            ("expiryDate", .optional(expiryDate?.description)),
        ]
        return JSONObject(members)
    }

    func extraColumns() throws -> [(String, PostgresBinding)] {
        [
            ("member_number", PostgresBinding(memberNumber)),
            ("membership_type", PostgresBinding(membershipType)),
            ("membership_status", PostgresBinding(membershipStatus)),
            ("join_date", PostgresBinding(joinDate)),
            ("expiry_date", PostgresBinding(expiryDate)),
        ]
    }

    func checkReferences(clientId: String, on connection: PostgresConnection) throws {}
    var hasReferences: Bool { false }
}

extension Member: PersonRecord {
    static let addedOnWrite = ""

    init(written input: MemberInput, id: UUID, over current: Member?, at clock: TransactionClock, row: PostgresRow) throws {
        self.id = id
        person = input.person
        memberNumber = input.memberNumber
        membershipType = input.membershipType
        membershipStatus = input.membershipStatus
        joinDate = input.joinDate
        expiryDate = input.expiryDate
        prospectId = current?.prospectId
        (createdAt, updatedAt, version, updatedMicros) = clock.stamps(over: current)
    }

    static let table = "members"
    static let resource = SyncErrorResource.member
    static let noun = "member"
    static let collectionPath = "/v1/members"
}
