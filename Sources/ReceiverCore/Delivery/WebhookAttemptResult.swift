import Foundation
import OutboundHTTP

/// What one attempt of a claimed delivery came to, as the engine records it.
package struct WebhookAttemptResult: Sendable {
    package enum Outcome: String, Sendable {
        /// A 2xx: delivered.
        case succeeded
        /// Anything else: tried again per the schedule (`retryAt`).
        case retry
        /// The schedule ran out: the delivery is `failed`.
        case failed
        /// `410 Gone`: the endpoint is disabled at once; the delivery stays pending.
        case gone
        /// Not sent (its start deadline passed in the queue), or cancelled as the engine stops:
        /// the claim is released, no attempt counted.
        case released
    }

    package var delivery: ClaimedDelivery
    package var outcome: Outcome
    package var startedAt: Date
    /// From submission to the answer (or failure).
    package var latency: Duration
    package var latencyMilliseconds: Int { Int(latency.components.seconds * 1000 + latency.components.attoseconds / 1_000_000_000_000_000) }
    /// The HTTP status; nil when no answer came.
    package var status: Int?
    /// Why it failed, for the delivery log; nil on success.
    package var error: String?
    /// When to try again (`retry`), or nil.
    package var retryAt: Date?

    /// Classifies `result` of an attempt submitted at `startedAt` that took `latency`.
    package init(delivery: ClaimedDelivery, result: Result<OutboundResponse, OutboundHTTPError>, startedAt: Date,
                 latency: Duration, schedule: WebhookRetrySchedule) {
        self.delivery = delivery
        self.startedAt = startedAt
        self.latency = latency
        let finishedAt = startedAt.addingTimeInterval(Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18)
        var retryAfter: Duration?
        switch result {
        case .success(let response):
            status = response.status
            if (200..<300).contains(response.status) {
                outcome = .succeeded
                return
            }
            if response.status == 410 {
                outcome = .gone
                error = "410 Gone: the endpoint is disabled"
                return
            }
            retryAfter = response.retryAfter(now: Int64(finishedAt.timeIntervalSince1970))
            error = "HTTP \(response.status)"
        case .failure(let failure) where [.notStarted, .cancelled, .overloaded].contains(failure.kind):
            // Never started, or cut off as the engine stops (whether it arrived is unknown):
            // due again at once, for any instance; a duplicate carries the same webhook-id.
            outcome = .released
            error = failure.message
            return
        case .failure(let failure):
            error = failure.message
        }
        let failures = delivery.scheduleStep + 1
        if let delay = schedule.delay(afterFailures: failures, retryAfter: retryAfter) {
            outcome = .retry
            retryAt = finishedAt.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        } else {
            outcome = .failed
        }
    }
}
