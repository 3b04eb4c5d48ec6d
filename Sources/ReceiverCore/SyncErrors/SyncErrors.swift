import Foundation
import Postgres

/// The kinds of record a sync error is about.
public enum SyncErrorResource: String, Sendable {
    case prospect
    case member
    case leadSource = "lead-source"
    case convert
}

/// A rejected `/v1` write, as kept for the admins.
public struct RejectedWrite: Sendable {
    public var clientId: String
    /// `METHOD /route/template` of the call.
    public var operation: String
    public var resource: SyncErrorResource
    /// The sender's id of the record, when the call named a clean one.
    public var externalId: String?
    public var recordId: UUID?
    public var requestId: String
    /// What the caller was answered, as a JSON document.
    public var problem: JSONObject

    public init(clientId: String, operation: String, resource: SyncErrorResource, externalId: String?,
                recordId: UUID?, requestId: String, problem: JSONObject) {
        (self.clientId, self.operation, self.resource, self.externalId, self.recordId, self.requestId, self.problem) =
            (clientId, operation, resource, externalId, recordId, requestId, problem)
    }
}

/// Rejected `/v1` writes, kept for the admins until a later successful write of
/// the same record (same resource and external id, or same record id) resolves them.
public enum SyncErrors {
    /// An external id as kept: only a clean one (what the validation would accept unchanged).
    public static func cleanExternalId(_ candidate: String?) -> String? {
        candidate.flatMap { candidate -> String? in
            var reader = FieldReader(["externalId": .string(candidate)])
            let value = reader.string("externalId", maxLength: 255)
            return value == candidate ? value : nil
        }
    }

    /// Records a rejection. Best effort: a failure to record never turns the
    /// caller's answer into another one.
    ///
    /// A rejection of the same record (its external id, else its id) by the same
    /// operation with the same problem type as an open error is that error again:
    /// it counts one more, with this time's problem and request id, and keeps its
    /// first time (`sync_errors_open_once` in the migrations says why this key).
    /// A Connector that sends one bad record on every sync makes one error, not one
    /// per sync. A rejection that names no record is always a new error.
    public static func record(_ rejected: RejectedWrite, on connection: PostgresConnection) {
        let problemJSON = String(decoding: JSONWriter.serialize(.object(rejected.problem)), as: UTF8.self)
        _ = try? connection.execute("""
            INSERT INTO sync_errors AS e (client_id, operation, resource, external_id, record_id, request_id, problem)
            VALUES (\(rejected.clientId), \(rejected.operation), \(rejected.resource.rawValue), \(cleanExternalId(rejected.externalId)),
                    \(rejected.recordId), \(rejected.requestId), \(PostgresJSON(text: problemJSON)))
            ON CONFLICT (client_id, resource, operation, coalesce(external_id, ''),
                         coalesce(record_id, '00000000-0000-0000-0000-000000000000'), (problem->>'type'))
                WHERE resolved_at IS NULL AND (external_id IS NOT NULL OR record_id IS NOT NULL)
            DO UPDATE SET rejections = e.rejections + 1, last_seen_at = now(), problem = excluded.problem, request_id = excluded.request_id
            """)
    }

    /// Resolves the open errors of a record that was just written successfully.
    package static func resolve(resource: SyncErrorResource, externalId: String?, recordId: UUID, clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("""
            \(resolving(recordsIn: "(SELECT \(clientId)::text AS client_id, \(recordId)::uuid AS id, \(externalId)::text AS external_id) p",
                        resource: resource, clientIds: PostgresBinding([clientId])))
            """)
    }

    /// A boolean expression: whether the record a write is about has open errors
    /// of `resource` — by its external id (`externalId`, an SQL expression) or by
    /// its id (`recordId`, null for a record not found): only then does the write
    /// carry the statement that resolves them. Most writes of a client with many
    /// open errors are of other records, and cost no more than with none.
    ///
    /// Each arm names a whole key of an index of open errors, so it is one probe
    /// whatever the statistics say of the client. (Asking whether the client has
    /// any open error was a sequential scan stopping at the first match once the
    /// statistics knew only one client with errors, and took every client for it:
    /// every open error read on each save of a new client.)
    package static func anyOpen(clientId: String, externalId: String, recordId: String, resource: SyncErrorResource) -> PostgresQuery {
        """
        (EXISTS (SELECT FROM sync_errors e WHERE e.client_id = \(unescaped: clientId) AND e.resource = \(resource.rawValue)
                     AND e.external_id = \(unescaped: externalId) AND e.resolved_at IS NULL)
         OR EXISTS (SELECT FROM sync_errors e WHERE e.client_id = \(unescaped: clientId) AND e.record_id = \(unescaped: recordId)
                        AND e.resource = \(resource.rawValue) AND e.resolved_at IS NULL))
        """
    }

    /// `UPDATE sync_errors …` resolving the open errors of the records in `source`
    /// (aliased `p`, with `client_id`, `id`, `external_id`): those about the same
    /// record id, or the same external id. The one statement that resolves sync
    /// errors, for every kind of write.
    ///
    /// Each record's errors are two index lookups (`sync_errors_open_record_id`,
    /// `sync_errors_open_external_id`) joined by a BitmapOr, however many errors
    /// the client has open; `SyncErrorPlanTests` holds the plan to that. `clientIds`
    /// (a `text[]`) names the records' clients, so that both lookups start from the
    /// client whatever the planner guesses of `source`.
    package static func resolving(recordsIn source: PostgresQuery, resource: SyncErrorResource, clientIds: PostgresBinding) -> PostgresQuery {
        """
        UPDATE sync_errors e SET resolved_at = now() FROM \(source)
        WHERE e.client_id = ANY(\(clientIds)) AND e.resolved_at IS NULL AND e.resource = \(resource.rawValue)
          AND e.client_id = p.client_id
          AND (e.record_id = p.id OR e.external_id = p.external_id)
        """
    }
}
