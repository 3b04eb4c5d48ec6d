import Dispatch
import Foundation
import Logging
import Metrics
import Postgres
import ReceiverCore
import Synchronization

/// The database's upkeep inside `serve`, on one thread:
///
/// - every second, statistics for tables growing fast (`TableStatistics`), so
///   that a new installation's plans follow its tables from the first seconds,
///   and vacuum for the tables that work as queues (`QueueVacuum`), so that dead
///   rows never pile up in them while autovacuum waits;
/// - every 15 seconds, the change feed's horizon lag for `/metrics`;
/// - at start and every `interval`, the event log's partitions (`EventRetention`)
///   and the retention of the tables that would otherwise only grow
///   (`RowRetention`); a round that stopped at its bound is followed by the next
///   one a minute later, until the backlog is gone.
///
/// Several instances may run it at once: the partitions and the statistics are one
/// instance at a time (advisory locks), vacuum skips a table another vacuum holds, and
/// the row retention's batches never take the same rows.
final class MaintenanceLoop: Sendable {
    struct Settings: Sendable {
        var eventRetention: Duration
        var rowRetention: RowRetention.Settings
        var interval: Duration
        var statisticsInterval: Duration = .seconds(1)
        var lagInterval: Duration = .seconds(15)
        /// How soon a retention round that stopped at its bound is followed by the next.
        var backlogInterval: Duration = .seconds(60)
    }

    private let database: PostgresConnectionPool
    private let settings: Settings
    private let logger: Logger
    private let stopped = Mutex(true)
    private let wake = DispatchSemaphore(value: 0)
    private let lag = Gauge(label: "receiver_change_feed_horizon_lag_seconds")
    private let rowsDeleted = Counter(label: "receiver_retention_deleted_rows_total")

    init(database: PostgresConnectionPool, settings: Settings, logger: Logger) {
        (self.database, self.settings, self.logger) = (database, settings, logger)
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
        var nextLag = ContinuousClock.now
        while !stopped.withLock({ $0 }) {
            refreshStatistics()
            vacuumQueues()
            if ContinuousClock.now >= nextRetention {
                let finished = runRetention()
                nextRetention = .now + (finished ? settings.interval : min(settings.interval, settings.backlogInterval))
            }
            if ContinuousClock.now >= nextLag {
                measureLag()
                nextLag = .now + settings.lagInterval
            }
            _ = wake.wait(timeout: .now() + .nanoseconds(Int(settings.statisticsInterval / .nanoseconds(1))))
        }
    }

    private func refreshStatistics() {
        everySecond("analyze growing tables") { try TableStatistics.refreshGrowing(on: $0) }
    }

    private func vacuumQueues() {
        everySecond("vacuum queue tables") { try QueueVacuum.run(on: $0) }
    }

    /// One of the chores of every second, which returns the tables it worked on: said at
    /// debug level, as is a failure (the chore runs again a second later).
    private func everySecond(_ chore: String, _ run: (PostgresConnection) throws -> [String]) {
        do {
            let tables = try database.withConnection(run)
            if !tables.isEmpty {
                logger.debug("\(chore): done", metadata: ["tables": "\(tables.joined(separator: ","))"])
            }
        } catch {
            logger.debug("\(chore): failed; it runs again in a moment", metadata: ["error": "\(error)"])
        }
    }

    /// Both retentions; false when the row retention has more to delete than a round may.
    private func runRetention() -> Bool {
        do {
            let report = try database.withConnection { try EventRetention.run(retention: settings.eventRetention, on: $0) }
            if report.ran, !report.partitionsCreated.isEmpty || !report.partitionsDropped.isEmpty {
                logger.notice("event retention", metadata: [
                    "partitions-created": "\(report.partitionsCreated.joined(separator: ","))",
                    "partitions-dropped": "\(report.partitionsDropped.joined(separator: ","))",
                ])
            }
        } catch {
            logger.warning("event retention failed; it runs again later", metadata: ["error": "\(error)"])
        }
        do {
            let report = try database.withConnection { try RowRetention.run(settings.rowRetention, on: $0) }
            let total = report.deleted.values.reduce(0, +)
            if total > 0 {
                rowsDeleted.increment(by: total)
                logger.notice("retention", metadata: report.deleted.sorted { $0.key < $1.key }.reduce(into: [:]) {
                    $0["\($1.key.replacingOccurrences(of: "_", with: "-"))-deleted"] = "\($1.value)"
                })
            }
            return !report.unfinished
        } catch {
            logger.warning("retention failed; it runs again later", metadata: ["error": "\(error)"])
            return true
        }
    }

    private func measureLag() {
        if let seconds = try? database.withConnection({ try EventRetention.horizonLag(on: $0) }) {
            lag.record(seconds)
        }
    }
}
