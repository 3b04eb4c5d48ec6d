import Dispatch
import Foundation
import Logging
import Metrics
import Postgres
import ReceiverCore
import Synchronization

/// The event log's upkeep inside `serve`: `EventRetention` at start and every
/// `interval` (several instances take turns through an advisory lock), and the
/// change feed's horizon lag for `/metrics` every 15 seconds.
final class EventMaintenance: Sendable {
    private let database: PostgresConnectionPool
    private let retention: Duration
    private let interval: Duration
    private let logger: Logger
    private let stopped = Mutex(true)
    private let wake = DispatchSemaphore(value: 0)
    private let lag = Gauge(label: "receiver_change_feed_horizon_lag_seconds")

    static let lagInterval: Duration = .seconds(15)

    init(database: PostgresConnectionPool, retention: Duration, interval: Duration, logger: Logger) {
        (self.database, self.retention, self.interval, self.logger) = (database, retention, interval, logger)
    }

    func start() {
        guard stopped.withLock({ let was = $0; $0 = false; return was }) else { return }
        Thread.detachNewThread { [self] in run() }
    }

    func stop() {
        stopped.withLock { $0 = true }
        wake.signal()
    }

    private func run() {
        var nextRetention = ContinuousClock.now
        while !stopped.withLock({ $0 }) {
            if ContinuousClock.now >= nextRetention {
                runRetention()
                nextRetention = .now + interval
            }
            measureLag()
            _ = wake.wait(timeout: .now() + .seconds(Int(Self.lagInterval.components.seconds)))
        }
    }

    private func runRetention() {
        do {
            let report = try database.withConnection { try EventRetention.run(retention: retention, on: $0) }
            guard report.ran else { return }
            if !report.partitionsCreated.isEmpty || !report.partitionsDropped.isEmpty || report.idempotencyKeysDeleted > 0 {
                logger.notice("event retention", metadata: [
                    "partitions-created": "\(report.partitionsCreated.joined(separator: ","))",
                    "partitions-dropped": "\(report.partitionsDropped.joined(separator: ","))",
                    "idempotency-keys-deleted": "\(report.idempotencyKeysDeleted)",
                ])
            }
        } catch {
            logger.warning("event retention failed; it runs again later", metadata: ["error": "\(error)"])
        }
    }

    private func measureLag() {
        if let seconds = try? database.withConnection({ try EventRetention.horizonLag(on: $0) }) {
            lag.record(seconds)
        }
    }
}
