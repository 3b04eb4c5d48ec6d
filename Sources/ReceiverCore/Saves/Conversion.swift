import Foundation
import Postgres

/// Converting a prospect into a member (`POST /v1/prospects/{id}/convert`): the
/// member is created and the prospect marked converted, in the caller's
/// transaction. The member body may leave out the person fields; each missing
/// one is taken from the prospect.
package enum Conversion {
    package static func convert(_ prospectId: String, into body: JSONObject, clientId: String, on connection: PostgresConnection) throws -> Member {
        let prospect = try PersonWrites<Prospect>.require(prospectId, clientId: clientId, on: connection, forUpdate: true)
        if let memberId = prospect.memberId {
            throw ReceiverError.conflict("The prospect was already converted into member \(memberId.lowercasedString).", existingId: memberId)
        }
        var merged = prospect.input.person.jsonMembers().reduce(into: JSONObject()) { $0[$1.name] = $1.value }
        merged["externalId"] = nil  // the prospect's external id names the prospect, not the member
        for (name, value) in body.members where !value.isNull { merged[name] = value }
        let input = try MemberInput.parse(merged).validated()

        typealias Members = PersonWrites<Member>
        try PersonStore<Member>.checkReferences(input, clientId: clientId, on: connection)
        if let externalId = input.person.externalId,
           let existing = try PersonStore<Member>.find(externalId: externalId, clientId: clientId, on: connection) {
            throw Members.externalIdTaken(externalId, existingId: existing.id)
        }
        let member = try Members.catchingExternalIdConflict(input.person.externalId) {
            try PersonStore<Member>.write(
                clientId: clientId, id: RecordID.make(), input: input, current: nil, linked: prospect.id, resolving: false, on: connection)
        }
        try PersonStore<Prospect>.markConverted(prospect, into: member, clientId: clientId, on: connection)
        return member
    }
}

extension PersonStore where Record == Prospect {
    /// The prospect becomes `converted`, naming its member: a new version, and
    /// its event `prospect.converted`.
    static func markConverted(_ prospect: Prospect, into member: Member, clientId: String, on connection: PostgresConnection) throws {
        let rows = try connection.query("""
            UPDATE prospects p
            SET status = 'converted', member_id = \(member.id), updated_at = now(), version = p.version + 1,
                event_xid = \(unescaped: EventLog.nextPosition(of: "p"))
            WHERE p.client_id = \(clientId) AND p.id = \(prospect.id)
            RETURNING \(unescaped: Prospect.selectList)
            """)
        let converted = try Prospect(row: rows[0])
        try EventLog.record([NewEvent(
            type: "prospect.converted", clientId: clientId, clubId: converted.person.clubId,
            recordId: converted.id, version: converted.version, data: converted.json)], of: "prospects", on: connection)
        try SyncErrors.resolve(resource: .convert, externalId: nil, recordId: prospect.id, clientId: clientId, on: connection)
    }
}
