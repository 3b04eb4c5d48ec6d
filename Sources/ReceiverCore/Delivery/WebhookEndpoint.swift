import Foundation
import Postgres

/// A client's webhook endpoint as stored, without its secret: what admins see.
public struct WebhookEndpoint: Sendable, Equatable {
    /// Why an endpoint is disabled (`disabledReason`).
    public enum DisabledReason: String, Sendable, CaseIterable {
        /// An admin turned it off.
        case admin
        /// It answered `410 Gone`.
        case gone
        /// Every attempt failed for the auto-disable period.
        case failing
    }

    public var clientId: String
    public var id: UUID
    public var url: String
    public var description: String?
    /// Empty: every event type.
    public var eventTypes: [String]
    /// Empty: every club.
    public var clubIds: [String]
    public var enabled: Bool
    public var disabledReason: DisabledReason?
    public var disabledAt: Date?
    /// Deliveries a second at most; nil: no limit.
    public var rateLimit: Int?
    /// Until when the secret before the last rotation still signs; nil: no rotation under way.
    public var previousSecretExpiresAt: Date?
    public var lastSuccessAt: Date?
    /// Since when every attempt has failed; nil while it succeeds.
    public var failingSince: Date?
    /// When the auto-disable warning of the current failing period was recorded.
    public var warnedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    package static let columns = """
        client_id, id, url, description, event_types, club_ids, enabled, disabled_reason, disabled_at, rate_limit, \
        previous_secret_expires_at, last_success_at, failing_since, warned_at, created_at, updated_at, version
        """

    package init(row: PostgresRow) throws {
        clientId = try row.decode("client_id")
        id = try row.decode("id")
        url = try row.decode("url")
        description = try row.decode("description")
        eventTypes = try row.decode("event_types")
        clubIds = try row.decode("club_ids")
        enabled = try row.decode("enabled")
        disabledReason = try row.decode("disabled_reason", as: String?.self).flatMap(DisabledReason.init(rawValue:))
        disabledAt = try row.decode("disabled_at")
        rateLimit = try row.decode("rate_limit")
        previousSecretExpiresAt = try row.decode("previous_secret_expires_at")
        lastSuccessAt = try row.decode("last_success_at")
        failingSince = try row.decode("failing_since")
        warnedAt = try row.decode("warned_at")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        version = try row.decode("version")
    }

    /// The endpoint as the admin API shows it: never the secret.
    public var json: JSONObject {
        [
            "id": .string(id.lowercasedString),
            "url": .string(url),
            "description": .optional(description),
            "eventTypes": .array(eventTypes.map(JSONValue.string)),
            "clubIds": .array(clubIds.map(JSONValue.string)),
            "enabled": .bool(enabled),
            "disabledReason": .optional(disabledReason?.rawValue),
            "disabledAt": .optional(disabledAt.map(Timestamp.format)),
            "rateLimit": rateLimit.map { .number(Double($0)) } ?? .null,
            "previousSecretExpiresAt": .optional(previousSecretExpiresAt.map(Timestamp.format)),
            "lastSuccessAt": .optional(lastSuccessAt.map(Timestamp.format)),
            "failingSince": .optional(failingSince.map(Timestamp.format)),
            "disableWarningAt": .optional(warnedAt.map(Timestamp.format)),
            "createdAt": .string(Timestamp.format(createdAt)),
            "updatedAt": .string(Timestamp.format(updatedAt)),
            "version": .number(Double(version)),
        ]
    }

    /// What the audit trail records of it (never the secret).
    package var auditJSON: JSONObject {
        var object = json
        for name in ["lastSuccessAt", "failingSince", "disableWarningAt", "createdAt", "updatedAt", "previousSecretExpiresAt"] {
            object[name] = nil
        }
        return object
    }
}
