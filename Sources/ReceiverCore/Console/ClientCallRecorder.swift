import Foundation
import Postgres
import Synchronization

/// Each client's connection health — the last successful and the last failed
/// `/v1` call of its Connector — kept without a write per call.
///
/// Like ``ReaderUseRecorder``, the point is that the Connector's calls stay
/// what they are: a save must not turn into a save plus an UPDATE. Here a call
/// only updates a small map in memory; ``flush(on:)`` writes the map in one
/// statement (a few times a minute, from `serve`'s flusher, and before an admin
/// reads the health), each instance keeping the later of its own and the stored
/// times, so several instances agree.
///
/// Calls are keyed by the Basic username they carry, which is all the HTTP layer
/// knows of a call it has not authenticated (a 401). The flush keeps only the
/// usernames of Connector credentials, current or revoked: a reader's calls are
/// not the Connector's, a username nobody issued is nobody's, and a rotated
/// password still in use shows as its client's 401s (the usual cause).
package final class ClientCallRecorder: Sendable {
    struct Pending: Equatable {
        var lastSuccess: Date?
        var lastFailure: Date?
        var failureStatus: Int?

        mutating func merge(_ other: Pending) {
            if let success = other.lastSuccess, success > (lastSuccess ?? .distantPast) { lastSuccess = success }
            if let failure = other.lastFailure, failure >= (lastFailure ?? .distantPast) {
                lastFailure = failure
                failureStatus = other.failureStatus
            }
        }
    }

    /// Usernames with calls not yet written; a map that a flood of made-up
    /// usernames could grow, so it stops taking new ones at this size until the
    /// next flush empties it.
    package static let maximumPending = 10_000
    private let pending = Mutex<[String: Pending]>([:])

    package init() {}

    /// Whether an answer with `status` counts as a failed call: every error but
    /// 404, which is an answer about a record (the connection and the credential
    /// worked), not about the connection.
    package static func isFailure(status: Int) -> Bool {
        status >= 400 && status != 404
    }

    /// Notes that a call with the Basic username `username` was answered `status`.
    package func record(username: String, status: Int, at time: Date = Date()) {
        guard username.utf8.count <= ClientCredential.maximumUsernameLength,
              ClientCredential.clientId(fromUsername: username) != nil else { return }
        let call = Self.isFailure(status: status)
            ? Pending(lastSuccess: nil, lastFailure: time, failureStatus: status)
            : Pending(lastSuccess: time, lastFailure: nil, failureStatus: nil)
        pending.withLock { pending in
            if pending[username] == nil, pending.count >= Self.maximumPending { return }
            pending[username, default: Pending()].merge(call)
        }
    }

    /// Writes the calls noted since the last flush, in one statement. On failure
    /// they are put back (merged with any noted meanwhile) for the next flush, and
    /// the error is thrown.
    package func flush(on connection: PostgresConnection) throws {
        let taken = pending.withLock { pending -> [String: Pending] in
            let taken = pending
            pending = [:]
            return taken
        }
        guard !taken.isEmpty else { return }
        do {
            try ClientHealthStore.write(taken.map { ($0.key, $0.value) }, on: connection)
        } catch {
            pending.withLock { pending in
                for (username, calls) in taken { pending[username, default: Pending()].merge(calls) }
            }
            throw error
        }
    }

    /// How many usernames wait for the next flush (tests, metrics).
    package var pendingCount: Int { pending.withLock { $0.count } }
}
