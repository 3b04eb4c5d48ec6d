/// The version a conditional write expects the record to be at (HTTP's
/// `If-Match`, RFC 9110 §13.1.1, with the record's version as its entity tag).
public enum VersionCondition: Sendable, Equatable {
    /// Any current version, but the record must exist (`*`).
    case any
    /// One of these versions.
    case versions([Int])

    /// False when there is no current record.
    public func matches(currentVersion: Int?) -> Bool {
        guard let currentVersion else { return false }
        switch self {
        case .any: return true
        case .versions(let versions): return versions.contains(currentVersion)
        }
    }
}

extension Optional where Wrapped == VersionCondition {
    /// Throws `versionMismatch` unless the condition, if there is one, holds.
    public func check(currentVersion: Int?) throws(ReceiverError) {
        guard let condition = self, !condition.matches(currentVersion: currentVersion) else { return }
        let current = currentVersion.map { "the current version is \"\($0)\"" } ?? "the record does not exist"
        throw .versionMismatch("If-Match does not match: \(current). Fetch the record and retry with its ETag.")
    }
}
