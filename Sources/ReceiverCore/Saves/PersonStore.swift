import Foundation
import Postgres

/// Filters of a prospect or member list.
public struct PersonListFilter: Sendable {
    public var clubId: String?
    public var email: String?
    public var externalId: String?
    public var updatedSince: Date?
    public var includeDisabledClubs = false

    public init(clubId: String? = nil, email: String? = nil, externalId: String? = nil, updatedSince: Date? = nil, includeDisabledClubs: Bool = false) {
        (self.clubId, self.email, self.externalId, self.updatedSince, self.includeDisabledClubs) =
            (clubId, email, externalId, updatedSince, includeDisabledClubs)
    }
}

/// SQL for reading prospects and members, and the lookup of a batch of saves.
/// Every statement is scoped by client id. (Writes: `PersonStore+Writes.swift`.)
package enum PersonStore<Record: PersonRecord> {
    package static func find(_ id: UUID, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> Record? {
        try connection.query("""
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            WHERE p.client_id = \(clientId) AND p.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE OF p" : "")
            """).first.map(Record.init(row:))
    }

    package static func find(externalId: String, clientId: String, on connection: PostgresConnection, forUpdate: Bool = false) throws -> Record? {
        try connection.query("""
            SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
            WHERE p.client_id = \(clientId) AND p.external_id = \(externalId) \(unescaped: forUpdate ? "FOR UPDATE OF p" : "")
            """).first.map(Record.init(row:))
    }

    /// Ordered by `updatedAt`, then id: a client polling with `updatedSince`
    /// pages through changes in the order they happened.
    package static func list(clientId: String, filter: PersonListFilter, page: Page, on connection: PostgresConnection) throws -> [Record] {
        try connection.query(try listQuery(clientId: clientId, filter: filter, page: page)).map(Record.init(row:))
    }

    /// The statement of `list`.
    package static func listQuery(clientId: String, filter: PersonListFilter, page: Page) throws -> PostgresQuery {
        listQuery(clientId: clientId, filter: filter, after: try PersonListRead.after(page), limit: page.limit + 1)
    }

    /// The statement of `list`, its cursor read (`PersonListRead.after`): at most `limit` records.
    package static func listQuery(clientId: String, filter: PersonListFilter, after: (micros: Int, id: UUID)?, limit: Int) -> PostgresQuery {
        """
        SELECT \(unescaped: Record.selectList) FROM \(unescaped: Record.fromClause)
        JOIN clubs c ON c.client_id = p.client_id AND c.club_id = p.club_id
        WHERE \(filter.conditions(clientId: clientId, after: after))
        ORDER BY \(unescaped: listOrder(of: "p"))
        LIMIT \(limit)
        """
    }

    /// The order of the list, of the records named `table`.
    package static func listOrder(of table: String) -> String {
        "\(table).updated_at, \(table).id"
    }

    package static func sortKey(_ record: Record) -> [String] {
        [String(record.updatedMicros), record.id.lowercasedString]
    }

    /// The club must be one of the client's and switched on.
    package static func checkClub(_ clubId: String, clientId: String, on connection: PostgresConnection) throws {
        try checkClub(enabled: try connection.query("""
            SELECT enabled FROM clubs WHERE client_id = \(clientId) AND club_id = \(clubId)
            """).first?.decode(0, as: Bool.self))
    }

    /// The rule, given the club's `enabled` (nil: the client has no such club).
    package static func checkClub(enabled: Bool?) throws(ReceiverError) {
        guard let enabled else { throw .invalidField("clubId", "is not one of your clubs") }
        guard enabled else { throw .invalidField("clubId", "is switched off and accepts no writes; ask the receiver's administrators to enable it") }
    }

    /// A client's club and references, checked before a write that changes a record.
    package static func checkReferences(_ input: Record.Input, clientId: String, on connection: PostgresConnection) throws {
        try checkClub(input.person.clubId, clientId: clientId, on: connection)
        guard let leadSource = try input.leadSourceReference() else { return }
        guard try LeadSourceStore.find(leadSource, clientId: clientId, on: connection) != nil else { throw ProspectInput.unknownLeadSource }
    }

    /// Whether `error` is another write taking the external id first.
    package static func isExternalIdConflict(_ error: PostgresError) -> Bool {
        error.code == .uniqueViolation && (error.constraint?.hasSuffix("external_id_key") ?? false)
    }

    /// Sent first in a transaction that runs statements reading `PostgresColumns`. A
    /// custom plan sees the arrays' length, and its estimate of a few rows against
    /// the generic plan's ten makes PostgreSQL plan every execution afresh, which
    /// costs more than running it. The generic plans are good for any number of
    /// rows. `SET LOCAL`: for this transaction only.
    package static var genericPlans: PostgresQuery { "SET LOCAL plan_cache_mode = force_generic_plan" }

    // MARK: - The lookup of a batch of saves

    /// What a batch needs to know about a save before writing: the credential of
    /// the client it claims to act for, its club and references, and its record,
    /// locked; or, for an external id without a record, the record smart matching
    /// would adopt.
    package struct Lookup {
        /// The stored hash of the username's active credential, if there is one.
        var passwordHash: String?
        /// Whose credential it is: `connector` or `reader`.
        var credentialRole: String?
        /// The staff member with the input's staff owner email, if any.
        var inputStaffOwnerId: UUID?
        /// The client's status and options, with the credential.
        var clientStatus: String?
        var clientOptions: PostgresJSON?
        /// The club's `enabled`; nil when the client has no such club.
        var clubEnabled: Bool?
        /// Whether the records the input refers to (a lead source) are the client's.
        var referencesFound = false
        /// The record with the save's external id, if any, locked `FOR UPDATE`.
        var current: Record?
        /// When there is no such record: the one smart matching adopts, if any,
        /// locked (whether the client matches at all is for the caller to ask).
        var match: Record?
        /// Whether the save's record (by its external id, or the record found) has
        /// open sync errors: only then do the batch's writes carry the statement
        /// that resolves them (`SyncErrors.anyOpen`).
        var syncErrorsOpen = false
    }

    /// One statement for the whole batch (read by `lookups(in:count:)`), smart
    /// matching included: the lateral join gives a save its record by external id,
    /// or else up to two match candidates (`MatchSQL`), which settle the rules. A
    /// save without a match key has null names and matches nothing.
    ///
    /// The password is checked afterwards, in Swift: a save with a wrong one may
    /// have locked the claimed client's records, but only for this batch's
    /// transaction, and nothing is written for it. Records of suspended or unknown
    /// clients are not locked at all.
    package static func lookUp(_ saves: [PersonSave<Record>]) -> PostgresQuery {
        var rows = PostgresColumns(["n", "client_id", "username", "external_id", "club_id", "lead_source_id", "staff_owner_email",
                                    "first_name", "last_name", "email", "mobile"])
        for (index, save) in saves.enumerated() {
            let key = MatchKey(save.input.person)
            rows.append([PostgresBinding(index), PostgresBinding(save.credential.clientId), PostgresBinding(save.credential.username),
                         PostgresBinding(save.externalId), PostgresBinding(save.input.person.clubId),
                         PostgresBinding((try? save.input.leadSourceReference()) ?? nil), PostgresBinding(save.input.staffOwnerEmail),
                         PostgresBinding(key?.first), PostgresBinding(key?.last), PostgresBinding(key?.email), PostgresBinding(key?.mobile)])
        }
        // `SyncErrors.anyOpen` binds the resource twice, before the rows.
        let resource = PostgresBinding(Record.resource.rawValue)
        return StatementTexts.shared.query("\(Record.table).lookUp", bindings: [resource, resource] + rows.bindings) { """
            SELECT i.n, c.password_hash, c.role AS credential_role, cl.status AS client_status, cl.options AS client_options,
                   (SELECT k.enabled FROM clubs k WHERE k.client_id = i.client_id AND k.club_id = i.club_id) AS club_enabled,
                   (i.lead_source_id IS NULL OR EXISTS (SELECT FROM lead_sources s WHERE s.client_id = i.client_id AND s.id = i.lead_source_id))
                       AS references_found,
                   \(SyncErrors.anyOpen(clientId: "cl.client_id", externalId: "i.external_id", recordId: "f.id", resource: Record.resource))
                       AS sync_errors_open,
                   staff_id_by_email(i.client_id, i.staff_owner_email) AS input_staff_owner_id,
                   \(unescaped: TransactionClock.selectList),
                   f.*
            FROM \(rows: rows, as: "i")
            LEFT JOIN credentials c ON c.client_id = i.client_id AND c.username = i.username AND c.revoked_at IS NULL
            LEFT JOIN clients cl ON cl.client_id = c.client_id
            LEFT JOIN LATERAL (
                SELECT \(unescaped: Record.selectList), p.external_id IS NULL AS candidate,
                       \(unescaped: MatchSQL.emailMatches) AS email_matches, \(unescaped: MatchSQL.mobileMatches) AS mobile_matches
                FROM \(unescaped: Record.fromClause)
                WHERE p.client_id = i.client_id AND cl.status = 'active'
                  AND (p.external_id = i.external_id OR (\(unescaped: MatchSQL.candidate(Record.table))))
                ORDER BY p.external_id IS NULL, \(unescaped: MatchSQL.order)
                LIMIT 2
                FOR UPDATE OF p
            ) f ON true
            """ }
    }

    /// The rows of `lookUp`: one `Lookup` per save, in order, and the clock of the
    /// transaction, which its writes will set.
    package static func lookups(in rows: PostgresRows, count: Int) throws -> (lookups: [Lookup], clock: TransactionClock) {
        guard let first = rows.first else {
            throw PostgresError(kind: .client, message: "the lookup of a batch of \(count) saves returned no rows")
        }
        var lookups = [Lookup](repeating: Lookup(), count: count)
        var candidates = [[(record: Record, email: Bool, mobile: Bool)]](repeating: [], count: count)
        for row in rows {
            let index = try row.decode("n", as: Int.self)
            lookups[index].passwordHash = try row.decode("password_hash")
            lookups[index].credentialRole = try row.decode("credential_role")
            lookups[index].inputStaffOwnerId = try row.decode("input_staff_owner_id")
            lookups[index].clientStatus = try row.decode("client_status")
            lookups[index].clientOptions = try row.decode("client_options")
            lookups[index].clubEnabled = try row.decode("club_enabled")
            lookups[index].referencesFound = try row.decode("references_found")
            // A save with two match candidates has a row for each.
            lookups[index].syncErrorsOpen = try row.decode("sync_errors_open") || lookups[index].syncErrorsOpen
            guard try row.decode("id", as: UUID?.self) != nil else { continue }
            let record = try Record(row: row)
            if try row.decode("candidate", as: Bool.self) {
                candidates[index].append((record, try row.decode("email_matches"), try row.decode("mobile_matches")))
            } else {
                lookups[index].current = record
            }
        }
        for index in lookups.indices where lookups[index].current == nil {
            lookups[index].match = adopted(candidates[index])
        }
        return (lookups, try TransactionClock(row: first))
    }

    /// Smart matching's rules (contract, "Matching on save") over a save's (at most
    /// two) candidates, in any order: the first rule that finds anything decides —
    /// email and mobile, then email, then mobile — and exactly one match is
    /// adopted; several are ambiguous (nil: create).
    package static func adopted(_ candidates: [(record: Record, email: Bool, mobile: Bool)]) -> Record? {
        let rules: [((email: Bool, mobile: Bool)) -> Bool] = [
            { $0.email && $0.mobile },
            { $0.email },
            { $0.mobile },
        ]
        for rule in rules {
            let matches = candidates.filter { rule(($0.email, $0.mobile)) }
            if matches.count == 1 { return matches[0].record }
            if matches.count > 1 { return nil }
        }
        return nil
    }

    /// Resolves the open sync errors of records a save left unchanged: the save
    /// succeeded, so what it was rejected for before is settled. nil when there are none.
    package static func resolveSyncErrors(of records: [(clientId: String, record: Record)]) -> PostgresQuery? {
        guard !records.isEmpty else { return nil }
        var rows = PostgresColumns(["client_id", "id", "external_id"])
        for (clientId, record) in records {
            rows.append([PostgresBinding(clientId), PostgresBinding(record.id), PostgresBinding(record.input.person.externalId)])
        }
        return SyncErrors.resolving(recordsIn: "\(rows: rows, as: "p")", resource: Record.resource, clientIds: rows.array("client_id"))
    }
}

/// The SQL of smart matching: a record `p` against a save's key `i`
/// (`first_name`, `last_name`, `email`, `mobile`, and its `external_id`, under
/// which a record must not exist).
package enum MatchSQL {
    package static let emailMatches = "coalesce(lower(p.email) = lower(i.email), false)"
    package static let mobileMatches = "coalesce(p.mobile_digits = i.mobile, false)"

    /// Whether `p` is a candidate: no external id, the same names, and the same
    /// email or mobile; and nothing of `table` has the save's external id yet.
    package static func candidate(_ table: String) -> String {
        """
        p.external_id IS NULL
                  AND lower(p.first_name) = lower(i.first_name) AND lower(p.last_name) = lower(i.last_name)
                  AND (lower(p.email) = lower(i.email) OR p.mobile_digits = i.mobile)
                  AND NOT EXISTS (SELECT FROM \(table) x WHERE x.client_id = i.client_id AND x.external_id = i.external_id)
        """
    }

    /// Candidates in the order whose first two rows settle every rule: matches on
    /// email and mobile first, then on email, then the rest (on mobile only).
    package static let order = "(\(emailMatches) AND \(mobileMatches)) DESC, \(emailMatches) DESC, p.id"
}

/// What smart matching compares: both names, and an email or mobile digits.
package struct MatchKey: Sendable {
    package let first: String
    package let last: String
    package let email: String?
    package let mobile: String?

    /// nil when the person cannot be matched (a name missing, or neither email nor mobile).
    init?(_ person: PersonFields) {
        guard let first = person.firstName, let last = person.lastName else { return nil }
        let mobile = person.phones.mobile.map { $0.filter(\.isNumber) }.flatMap { $0.isEmpty ? nil : $0 }
        guard person.email != nil || mobile != nil else { return nil }
        (self.first, self.last, self.email, self.mobile) = (first, last, person.email, mobile)
    }
}
