import Foundation

/// A client's connection health as the admin API shows it (`ClientHealth` in
/// openapi.yaml): the Connector's last successful and last failed `/v1` call,
/// the open sync errors, and when the Connector's current password was issued.
public struct ClientHealth: Sendable, Equatable {
    public var lastSuccessAt: Date?
    public var lastFailureAt: Date?
    public var lastFailureStatus: Int?
    public var openSyncErrors: Int
    /// When the active Connector credential was issued (turn-up or the last rotation).
    public var credentialIssuedAt: Date?

    /// A success older than this is no longer "connected": the Connector has gone quiet.
    public static let recentWindow: TimeInterval = 24 * 3_600

    /// The badge: `never` (no call yet), `failing` (open sync errors, or the last
    /// call failed), `connected` (the last call, within a day, succeeded), `idle`
    /// (the last call succeeded, but more than a day ago).
    public func state(now: Date = Date()) -> String {
        guard lastSuccessAt != nil || lastFailureAt != nil else { return "never" }
        if openSyncErrors > 0 || lastFailedCall { return "failing" }
        guard let lastSuccessAt, now.timeIntervalSince(lastSuccessAt) <= Self.recentWindow else { return "idle" }
        return "connected"
    }

    /// Whether the latest call the receiver saw failed.
    public var lastFailedCall: Bool {
        guard let lastFailureAt else { return false }
        return lastFailureAt > (lastSuccessAt ?? .distantPast)
    }

    public var json: JSONObject {
        [
            "state": .string(state()),
            "lastSuccessAt": .optional(lastSuccessAt.map(Timestamp.format)),
            "lastFailureAt": .optional(lastFailureAt.map(Timestamp.format)),
            "lastFailureStatus": lastFailureStatus.map { .number(Double($0)) } ?? .null,
            "openSyncErrors": .number(Double(openSyncErrors)),
            "credentialIssuedAt": .optional(credentialIssuedAt.map(Timestamp.format)),
        ]
    }
}
