import Dispatch
import Foundation
import Logging
import OutboundHTTP
import Postgres
import Synchronization

/// Delivers every client's events to its webhook endpoints, inside `serve`; any number of
/// instances may run it against one database (ARCHITECTURE.md, "Webhook delivery").
///
/// One thread does all of the engine's database work, in passes, each on one pooled
/// connection: record the outcomes that came in since the last pass (one statement), fan new
/// events out into pending deliveries (``WebhookFanOut``), claim due deliveries for the
/// endpoints with room (one statement, ``WebhookClaims``) and hand them to the multi client,
/// whose one driver thread runs every transfer (no thread per transfer, connections reused
/// per endpoint host). Completions only queue their result and wake the thread. Every few
/// seconds a pass also runs the health rules (``WebhookEndpointHealth``) and refreshes the
/// endpoints' metrics. The thread runs a pass at once when woken — by a commit on this
/// instance (``wake()``, while some endpoint is enabled), by finished transfers — and otherwise
/// every ``Settings/pollInterval``, which catches other instances' commits, new endpoints and
/// retries falling due.
///
/// A database outage stops the passes, never the process: outcomes wait in memory (bounded by
/// the claims in flight) and are recorded once it is back; claims not recorded in time lapse
/// and are sent again, with the same `webhook-id`.
package final class WebhookDeliveryEngine: Sendable {
    private struct Shared {
        var results: [WebhookAttemptResult] = []
        var stopping = false
        var stopDeadline: ContinuousClock.Instant?
        var running = false
    }

    package let settings: Settings
    private let database: PostgresConnectionPool
    private let logger: Logger
    private let client: OutboundHTTPMultiClient
    private let shared = Mutex(Shared())
    private let wakeSignal = DispatchSemaphore(value: 0)
    /// Whether a wake is pending, so a burst of commits or completions signals once.
    private let wakePending = Atomic(false)
    /// Whether the last pass found an enabled endpoint. Without one, a commit has nothing to
    /// deliver at once, and waking a pass for each (one query a save batch, about 5 % of a
    /// save's server CPU and 5–7 µs of PostgreSQL's) buys nothing: the poll, every
    /// ``Settings/pollInterval``, fans out and finds a new endpoint.
    private let deliversToSomeEndpoint = Atomic(true)
    /// Passes run so far (tests watch it).
    package var passes: Int { passCount.load(ordering: .relaxed) }
    private let passCount = Atomic(0)
    private let finished = DispatchSemaphore(value: 0)

    package init(database: PostgresConnectionPool, settings: Settings, logger: Logger) throws {
        self.database = database
        self.settings = settings
        self.logger = logger
        client = try OutboundHTTPMultiClient(configuration: settings.client)
    }

    /// Starts the engine's thread.
    package func start() {
        let start = shared.withLock { shared -> Bool in
            defer { shared.running = true }
            return !shared.running && !shared.stopping
        }
        guard start else { return }
        let thread = Thread { [self] in
            var loop = Loop(engine: self)
            loop.run()
            finished.signal()
        }
        thread.name = "webhook-engine"
        thread.start()
    }

    /// Something may be ready to deliver now (a commit on this instance).
    package func wake() {
        if deliversToSomeEndpoint.load(ordering: .relaxed) { wakeNow() }
    }

    /// Starts a pass at once (a transfer finished: its outcome is to be recorded).
    private func wakeNow() {
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) { wakeSignal.signal() }
    }

    /// Stops claiming, lets the transfers in flight finish for up to `gracePeriod` and records
    /// their outcomes, then cancels the rest (their claims are released for any instance to
    /// send again) and returns once the thread has ended.
    package func stop(gracePeriod: Duration = .seconds(5)) {
        let wasRunning = shared.withLock { shared -> Bool in
            guard !shared.stopping else { return false }
            shared.stopping = true
            shared.stopDeadline = .now + gracePeriod
            return shared.running
        }
        wakeSignal.signal()
        if wasRunning { finished.wait() }
        client.close()
    }

    // MARK: - The thread's loop

    /// What only the engine's thread touches.
    private struct Loop {
        let engine: WebhookDeliveryEngine
        var inFlight: [UUID: Int] = [:]
        var rateLimiter = WebhookRateLimiter()
        let metrics = WebhookMetrics()
        var nextHealth = ContinuousClock.now
        var nextForget = ContinuousClock.now + .seconds(60)
        var lastErrorLog: ContinuousClock.Instant?
        var cancelled = false

        var settings: Settings { engine.settings }
        var inFlightTotal: Int { inFlight.values.reduce(0, +) }

        mutating func run() {
            while true {
                let (stopping, deadline) = engine.shared.withLock { ($0.stopping, $0.stopDeadline) }
                if stopping, !cancelled, let deadline, ContinuousClock.now >= deadline {
                    // Past the grace period: what has not finished completes as cancelled (released).
                    engine.client.close()
                    cancelled = true
                }
                var busy = false
                do {
                    busy = try engine.database.withConnection { connection in try pass(stopping: stopping, on: connection) }
                } catch {
                    metrics.failed()
                    if stopping, let deadline, ContinuousClock.now >= deadline + .seconds(5) {
                        // The database is gone as the server stops: the claims lapse and are sent again.
                        engine.logger.warning("webhook delivery: stopping without recording \(inFlightTotal) outcomes; their deliveries will be sent again")
                        return
                    }
                    if lastErrorLog.map({ ContinuousClock.now - $0 > .seconds(30) }) ?? true {
                        engine.logger.warning("webhook delivery: a pass failed; retrying", metadata: ["error": "\(error)"])
                        lastErrorLog = .now
                    }
                    engine.wait(.seconds(1))
                    continue
                }
                if stopping, inFlightTotal == 0, engine.shared.withLock({ $0.results.isEmpty }) { return }
                if !busy { engine.wait(stopping ? .milliseconds(20) : settings.pollInterval) }
            }
        }

        /// One pass; whether it did anything (then the next starts at once).
        mutating func pass(stopping: Bool, on connection: PostgresConnection) throws -> Bool {
            engine.passCount.add(1, ordering: .relaxed)
            var busy = try recordResults(on: connection)
            if stopping { return busy }
            let targets = try WebhookTarget.all(on: connection)
            engine.deliversToSomeEndpoint.store(targets.contains(where: \.enabled), ordering: .relaxed)
            let fanOut = try WebhookFanOut.run(targets, pageSize: settings.fanOutPageSize, on: connection, logger: engine.logger)
            busy = busy || fanOut.deliveriesCreated > 0 || fanOut.more
            let claimed = try WebhookClaims.claim(quotas(targets), instance: settings.instance, lease: settings.lease, on: connection)
            submit(claimed)
            busy = busy || !claimed.isEmpty
            if ContinuousClock.now >= nextHealth {
                try health(on: connection)
                nextHealth = .now + settings.healthInterval
            }
            if ContinuousClock.now >= nextForget {
                _ = try WebhookEndpointHealth.forgetFinished(olderThan: settings.keepFinished, on: connection)
                nextForget = .now + .seconds(600)
            }
            return busy
        }

        /// Room per enabled endpoint: its in-flight allowance left, within its rate limit.
        mutating func quotas(_ targets: [WebhookTarget]) -> [(endpointId: UUID, quota: Int)] {
            rateLimiter.keep(only: Set(targets.map(\.endpointId)))
            var quotas: [(endpointId: UUID, quota: Int)] = []
            for target in targets where target.enabled {
                let allowance = target.failing ? settings.maxInFlightPerFailingEndpoint : settings.maxInFlightPerEndpoint
                let room = min(allowance - inFlight[target.endpointId, default: 0],
                               rateLimiter.available(target.endpointId, rateLimit: target.rateLimit))
                if room > 0 { quotas.append((target.endpointId, room)) }
            }
            return quotas
        }

        mutating func submit(_ claimed: [ClaimedDelivery]) {
            guard !claimed.isEmpty else { return }
            // Claimed just now: started by then, a transfer ends before the lease can lapse.
            let startDeadline = ContinuousClock.now + settings.lease - settings.transferTimeout - .seconds(5)
            let engine = self.engine
            for delivery in claimed {
                inFlight[delivery.endpointId, default: 0] += 1
                rateLimiter.take(1, from: delivery.endpointId)
                let startedAt = Date()
                let clock = ContinuousClock.now
                var request = delivery.request(
                    timestamp: Int64(startedAt.timeIntervalSince1970), refusePrivateAddresses: !settings.allowPrivateAddresses,
                    startDeadline: startDeadline)
                request.totalTimeout = settings.transferTimeout
                let schedule = settings.schedule
                engine.client.submit(request) { result in
                    let result = WebhookAttemptResult(
                        delivery: delivery, result: result, startedAt: startedAt, latency: ContinuousClock.now - clock, schedule: schedule)
                    engine.shared.withLock { $0.results.append(result) }
                    engine.wakeNow()
                }
            }
        }

        /// Records every result that came in; they stay queued if the database fails.
        mutating func recordResults(on connection: PostgresConnection) throws -> Bool {
            let results = engine.shared.withLock { shared in
                defer { shared.results.removeAll() }
                return shared.results
            }
            guard !results.isEmpty else { return false }
            let disabled: [WebhookClaims.Disabled]
            do {
                disabled = try WebhookClaims.record(results, instance: settings.instance, on: connection)
            } catch {
                engine.shared.withLock { $0.results.insert(contentsOf: results, at: 0) }
                throw error
            }
            for result in results {
                inFlight[result.delivery.endpointId, default: 1] -= 1
                if inFlight[result.delivery.endpointId] == 0 { inFlight[result.delivery.endpointId] = nil }
                metrics.record(result)
            }
            for endpoint in disabled {
                engine.logger.warning("webhook endpoint answered 410 Gone: disabled", metadata: [
                    "client": "\(endpoint.clientId)", "endpoint": "\(endpoint.endpointId.lowercasedString)"])
            }
            metrics.disabled(disabled.count, reason: .gone)
            return true
        }

        mutating func health(on connection: PostgresConnection) throws {
            let report = try WebhookEndpointHealth.sweep(warnAfter: settings.warnAfter, disableAfter: settings.disableAfter, on: connection)
            for change in report.warned {
                engine.logger.warning("webhook endpoint failing since \(Timestamp.format(change.failingSince)): it will be disabled if it still fails \(settings.disableAfter.components.seconds) s after that", metadata: [
                    "client": "\(change.clientId)", "endpoint": "\(change.endpointId.lowercasedString)"])
            }
            for change in report.disabled {
                engine.logger.error("webhook endpoint disabled: every attempt failed since \(Timestamp.format(change.failingSince))", metadata: [
                    "client": "\(change.clientId)", "endpoint": "\(change.endpointId.lowercasedString)"])
            }
            metrics.warned(report.warned.count)
            metrics.disabled(report.disabled.count, reason: .failing)
            metrics.update(try WebhookEndpointHealth.states(on: connection))
        }
    }

    /// Sleeps until woken or `timeout`.
    private func wait(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        _ = wakeSignal.wait(timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
        wakePending.store(false, ordering: .releasing)
    }
}
