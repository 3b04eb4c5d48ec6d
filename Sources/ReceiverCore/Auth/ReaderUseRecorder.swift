import Foundation
import Logging
import Postgres
import Synchronization

/// Keeps each reader credential's `lastUsedAt` current without a write on
/// every read: a club system polling the change feed may call several times a
/// second, and an UPDATE per GET would turn its reads into a stream of writes
/// (WAL, vacuum, a row lock against a concurrent revoke). So this process
/// writes at most once per `interval` for each credential; `lastUsedAt` is
/// then exact to within `interval` per instance, which is all an admin
/// deciding whether a credential is still in use needs.
///
/// One instance per process, shared by every `/v1` request
/// (``ReceiverService`` holds it).
package final class ReaderUseRecorder: Sendable {
    package let interval: Duration
    /// When this process last wrote each credential's use. Entries older than
    /// `interval` are pruned once the map grows past `pruneThreshold`, so
    /// revoked and idle credentials do not accumulate.
    private let lastWritten = Mutex<[UUID: ContinuousClock.Instant]>([:])
    private static let pruneThreshold = 4096

    package init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// Records that the reader credential `id` of `clientId` just authenticated
    /// a call, on the call's connection (outside any transaction), unless this
    /// process did so less than `interval` ago. Never throws: failing to record
    /// a use must not fail the read. A failed write is logged and forgotten, so
    /// the next call tries again.
    package func recordUse(readerId id: UUID, clientId: String, on connection: PostgresConnection, logger: Logger) {
        let now = ContinuousClock.now
        let due = lastWritten.withLock { written -> Bool in
            if let last = written[id], now - last < interval { return false }
            if written.count >= Self.pruneThreshold {
                written = written.filter { now - $0.value < interval }
            }
            written[id] = now
            return true
        }
        guard due else { return }
        do {
            try ReaderCredentials.markUsed(id, clientId: clientId, on: connection)
        } catch {
            lastWritten.withLock { written in
                if written[id] == now { written[id] = nil }
            }
            logger.warning("could not record a reader credential's use", metadata: [
                "client-id": .string(clientId), "reader-id": .string(id.lowercasedString), "error": .string("\(error)"),
            ])
        }
    }
}
