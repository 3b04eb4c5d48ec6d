import Foundation
import HTTPServer
import Postgres

/// The kinds of record a sync error is about.
enum SyncErrorResource: String, Sendable {
    case prospect
    case member
    case leadSource = "lead-source"
    case convert
}

/// Rejected `/v1` writes, kept for the admins until a later successful write of
/// the same record (same resource and external id, or same record id) resolves them.
enum SyncErrors {
    /// Every 4xx but 401 (nobody to attribute it to) and 404 (no record).
    static func isRecorded(_ status: Int) -> Bool {
        (400..<500).contains(status) && status != 401 && status != 404
    }

    /// Records a rejection. Best effort: a failure to record is logged by the
    /// caller's problem flow, never turns the client's 4xx into a 500.
    static func record(_ problem: Problem, resource: SyncErrorResource, call: ConnectorCall) {
        // The external id comes from a rejected request: kept only if it is a clean one.
        let externalId = (call.parameters["externalId"]
            ?? (try? RequestSupport.jsonObject(call.request, allowMergePatch: true))?["externalId"]?.stringValue)
            .flatMap { candidate -> String? in
                var reader = FieldReader(["externalId": .string(candidate)])
                let value = reader.string("externalId", maxLength: 255)
                return value == candidate ? value : nil
            }
        let recordId = call.parameters["id"].flatMap(RecordID.parse)
        let problemJSON = String(decoding: JSONWriter.serialize(.object(problem.jsonObject)), as: UTF8.self)
        _ = try? call.connection.execute("""
            INSERT INTO sync_errors (client_id, operation, resource, external_id, record_id, request_id, problem)
            VALUES (\(call.client.clientId), \(call.operation), \(resource.rawValue), \(externalId),
                    \(recordId), \(call.requestID), \(PostgresJSON(text: problemJSON)))
            """)
    }

    /// Resolves the open errors of a record that was just written successfully.
    static func resolve(resource: SyncErrorResource, externalId: String?, recordId: UUID, clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE sync_errors SET resolved_at = now()
            WHERE client_id = \(clientId) AND resolved_at IS NULL AND resource = \(resource.rawValue)
              AND (record_id = \(recordId) OR (external_id IS NOT NULL AND external_id = \(externalId)))
            """)
    }
}
