import Foundation
import Postgres

/// A member as stored.
package struct Member: Sendable {
    package var id: UUID
    package var person: PersonFields
    package var memberNumber: String?
    package var membershipType: String?
    package var membershipStatus: String?
    package var joinDate: PostgresDate?
    package var expiryDate: PostgresDate?
    package var prospectId: UUID?
    package var createdAt: Date
    package var updatedAt: Date
    package var version: Int
    /// `updated_at` in microseconds since the epoch, exact, for list cursors.
    package var updatedMicros: Int

    package static let selectList = "p.id, " + PersonFields.columnNames.map { "p.\($0)" }.joined(separator: ", ")
        + ", p.member_number, p.membership_type, p.membership_status, p.join_date, p.expiry_date, p.prospect_id"
        + ", p.created_at, p.updated_at, p.version, (extract(epoch FROM p.updated_at) * 1000000)::bigint AS updated_micros"

    package init(row: PostgresRow) throws {
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

    package var input: MemberInput {
        MemberInput(person: person, memberNumber: memberNumber, membershipType: membershipType,
                    membershipStatus: membershipStatus, joinDate: joinDate, expiryDate: expiryDate)
    }

    package var json: JSONObject {
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
    package var json: JSONObject {
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

    package func extraColumns() throws -> [(String, PostgresBinding)] {
        [
            ("member_number", PostgresBinding(memberNumber)),
            ("membership_type", PostgresBinding(membershipType)),
            ("membership_status", PostgresBinding(membershipStatus)),
            ("join_date", PostgresBinding(joinDate)),
            ("expiry_date", PostgresBinding(expiryDate)),
        ]
    }

    package func leadSourceReference() throws(ReceiverError) -> UUID? { nil }
    package var staffOwnerEmail: String? { nil }
}

extension Member: PersonRecord {
    package static let eventPrefix = "member"

    package init(written input: MemberInput, id: UUID, over current: Member?, linked: UUID?, at clock: TransactionClock, staffOwnerId: UUID?) throws {
        self.id = id
        person = input.person
        memberNumber = input.memberNumber
        membershipType = input.membershipType
        membershipStatus = input.membershipStatus
        joinDate = input.joinDate
        expiryDate = input.expiryDate
        prospectId = current?.prospectId ?? linked
        (createdAt, updatedAt, version, updatedMicros) = clock.stamps(over: current)
    }

    package static let table = "members"
    package static let resource = SyncErrorResource.member
    package static let noun = "member"
    package static let linkColumn: String? = "prospect_id"
}
