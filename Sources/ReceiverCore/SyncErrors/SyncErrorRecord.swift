import Foundation
import Postgres

/// An open sync error: a rejected `/v1` write no later successful write of the
/// same record has resolved yet.
public struct SyncErrorRecord: Sendable {
    public var id: Int
    /// The first rejection's time.
    public var occurredAt: Date
    /// How many times the record was rejected so (see `SyncErrors.record`), and the last time.
    public var count: Int
    public var lastSeenAt: Date
    /// The rejected operation as method and route template, e.g. `POST /v1/prospects`.
    public var operation: String
    /// `prospect`, `member`, `lead-source` or `convert`.
    public var resource: String
    public var externalId: String?
    public var recordId: UUID?
    public var requestId: String?
    /// The problem document the last rejection was answered with (`requestId` is that call's).
    public var problem: JSONObject

    package static let columns = "id, occurred_at, rejections, last_seen_at, operation, resource, external_id, record_id, request_id, problem"

    package init(row: PostgresRow) throws {
        id = try row.decode("id")
        occurredAt = try row.decode("occurred_at")
        count = try row.decode("rejections")
        lastSeenAt = try row.decode("last_seen_at")
        operation = try row.decode("operation")
        resource = try row.decode("resource")
        externalId = try row.decode("external_id")
        recordId = try row.decode("record_id")
        requestId = try row.decode("request_id")
        problem = try JSONParser.parse(Array(try row.decode("problem", as: PostgresJSON.self).text.utf8)).objectValue ?? [:]
    }

    /// The `SyncError` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "id": .string(String(id)),
            "occurredAt": .string(Timestamp.format(occurredAt)),
            "count": .number(Double(count)),
            "lastSeenAt": .string(Timestamp.format(lastSeenAt)),
            "operation": .string(operation),
            "resource": .string(resource),
            "externalId": .optional(externalId),
            "recordId": recordId.map { .string($0.lowercasedString) } ?? .null,
            "requestId": .optional(requestId),
            "problem": .object(problem),
        ]
    }
}
