import Foundation

/// Each endpoint's `rateLimit` (deliveries a second), as token buckets holding one second's
/// worth, refilled continuously; a claim takes no more deliveries than there are whole tokens.
///
/// Per instance: with several instances of `serve` delivering, each keeps its own buckets, so
/// an endpoint may receive up to (instances × `rateLimit`) a second at the worst moment. A
/// shared limit would need a database write per claim of every limited endpoint; instances
/// rarely deliver to the same endpoint at the same moment at full rate, and receivers that
/// need a hard limit answer `429` with `Retry-After`, which the schedule honours.
/// Confined to the engine's thread.
package struct WebhookRateLimiter {
    private var buckets: [UUID: (tokens: Double, at: ContinuousClock.Instant)] = [:]

    package init() {}

    /// How many deliveries the endpoint may be sent now (Int.max without a limit).
    package mutating func available(_ endpointId: UUID, rateLimit: Int?, now: ContinuousClock.Instant = .now) -> Int {
        guard let rateLimit else { return Int.max }
        let capacity = Double(rateLimit)
        var bucket = buckets[endpointId] ?? (capacity, now)
        let elapsed = now - bucket.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket = (min(capacity, bucket.tokens + seconds * capacity), now)
        buckets[endpointId] = bucket
        return Int(bucket.tokens)
    }

    /// Takes `count` tokens (after `available`).
    package mutating func take(_ count: Int, from endpointId: UUID) {
        buckets[endpointId]?.tokens -= Double(count)
    }

    /// Forgets endpoints no longer present.
    package mutating func keep(only endpointIds: Set<UUID>) {
        buckets = buckets.filter { endpointIds.contains($0.key) }
    }
}
