import Foundation

/// "Why does the Connector get 401 or 403?": the usual causes, each with
/// whether it is true of the client now, derived from what the receiver knows
/// (the client's status and clubs, its health, when its password was issued).
/// The console's troubleshooting panel shows them; the rules live here, once.
public struct ConnectionTroubleshooting: Sendable {
    public struct Cause: Sendable, Equatable {
        /// `rotated-password`, `suspended-client`, `disabled-club`.
        public var cause: String
        /// The status the Connector gets when this is the cause.
        public var status: Int
        public var applies: Bool
        public var detail: String

        public var json: JSONObject {
            ["cause": .string(cause), "status": .number(Double(status)), "applies": .bool(applies), "detail": .string(detail)]
        }
    }

    public var causes: [Cause]

    public init(client: ClientRecord, health: ClientHealth) {
        let issued = health.credentialIssuedAt.map(Self.readable) ?? "never"
        let refused401 = health.lastFailedCall && health.lastFailureStatus == 401
        let rotated = Cause(
            cause: "rotated-password", status: 401, applies: refused401,
            detail: refused401
                ? "The Connector's last call (\(health.lastFailureAt.map(Self.readable) ?? "")) was refused 401: it is not sending the current password, issued \(issued). Give the Connector's team the password of the latest turn-up sheet, or rotate and send the new one."
                : "The password in use was issued \(issued); after a rotation the old one is refused 401 at once. The Connector's calls are not being refused 401 now.")
        let suspended = client.status == "suspended"
        let suspension = Cause(
            cause: "suspended-client", status: 403, applies: suspended,
            detail: suspended
                ? "The client is suspended: every /v1 call is refused 403. Resume it to let the Connector in."
                : "The client is active.")
        let disabled = client.clubs.filter { !$0.enabled }.map(\.clubId)
        let clubs = Cause(
            cause: "disabled-club", status: 422, applies: !disabled.isEmpty,
            detail: disabled.isEmpty
                ? "Every club is on."
                : "Switched off: \(disabled.joined(separator: ", ")). Writes to \(disabled.count == 1 ? "it" : "them") are refused 422 on clubId (and kept as sync errors) until switched on again.")
        causes = [rotated, suspension, clubs]
    }

    public var json: JSONValue { .array(causes.map { .object($0.json) }) }

    /// `2026-12-06 07:02:33 UTC`: a time for a sentence, to the second.
    static func readable(_ date: Date) -> String {
        let text = Timestamp.format(date)
        let seconds = text.prefix(19).replacingOccurrences(of: "T", with: " ")
        return "\(seconds) UTC"
    }
}
