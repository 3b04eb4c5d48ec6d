import Foundation
import Metrics

/// The engine's `/metrics`: deliveries by outcome and attempt latency (this instance's), and
/// every endpoint's state (the database's, refreshed by each instance's health pass).
final class WebhookMetrics {
    private var outcomes: [WebhookAttemptResult.Outcome: Counter] = [:]
    private let latency = Timer(label: "receiver_webhook_attempt_duration_seconds")
    private let oldest = Gauge(label: "receiver_webhook_oldest_undelivered_seconds")
    private let warnings = Counter(label: "receiver_webhook_endpoint_warnings_total")
    private var disables: [String: Counter] = [:]
    private let errors = Counter(label: "receiver_webhook_engine_errors_total")
    private var perEndpoint: [UUID: [Gauge]] = [:]

    init() {
        for outcome in [WebhookAttemptResult.Outcome.succeeded, .retry, .failed, .gone, .released] {
            outcomes[outcome] = Counter(label: "receiver_webhook_deliveries_total", dimensions: [("outcome", outcome.rawValue)])
        }
        for reason in WebhookEndpoint.DisabledReason.allCases where reason != .admin {
            disables[reason.rawValue] = Counter(label: "receiver_webhook_endpoint_disabled_total", dimensions: [("reason", reason.rawValue)])
        }
    }

    func record(_ result: WebhookAttemptResult) {
        outcomes[result.outcome]?.increment()
        if result.outcome != .released { latency.recordNanoseconds(result.latency.components.seconds * 1_000_000_000 + result.latency.components.attoseconds / 1_000_000_000) }
    }

    func warned(_ count: Int) { if count > 0 { warnings.increment(by: count) } }
    func disabled(_ count: Int, reason: WebhookEndpoint.DisabledReason) { if count > 0 { disables[reason.rawValue]?.increment(by: count) } }
    func failed() { errors.increment() }

    /// Per endpoint: `receiver_webhook_endpoint_enabled` (1/0), `…_failing_seconds`,
    /// `…_pending_deliveries`, `…_oldest_undelivered_seconds`; and the oldest undelivered event
    /// of every enabled endpoint.
    func update(_ states: [WebhookEndpointHealth.State]) {
        var seen = Set<UUID>()
        for state in states {
            seen.insert(state.endpointId)
            let gauges = perEndpoint[state.endpointId] ?? {
                let dimensions = [("client_id", state.clientId), ("endpoint_id", state.endpointId.lowercasedString)]
                let made = ["enabled", "failing_seconds", "pending_deliveries", "oldest_undelivered_seconds"].map {
                    Gauge(label: "receiver_webhook_endpoint_\($0)", dimensions: dimensions)
                }
                perEndpoint[state.endpointId] = made
                return made
            }()
            gauges[0].record(state.enabled ? 1 : 0)
            gauges[1].record(state.failingSeconds)
            gauges[2].record(state.pending)
            gauges[3].record(state.oldestUndeliveredSeconds)
        }
        for (endpointId, gauges) in perEndpoint where !seen.contains(endpointId) {
            gauges.forEach { $0.destroy() }
            perEndpoint[endpointId] = nil
        }
        oldest.record(states.filter(\.enabled).map(\.oldestUndeliveredSeconds).max() ?? 0)
    }
}
