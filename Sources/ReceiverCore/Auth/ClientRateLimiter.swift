import Glibc
import Metrics
import Synchronization

/// Per-client rate limiting of `/v1`: a token bucket per client, so one client's Connector
/// cannot take the whole server from the others.
///
/// Each client may make `requestsPerSecond` requests per second on average and `burst` at
/// once; beyond, the request is answered `429` with `Retry-After` (the seconds until the
/// bucket holds a token again) and nothing is done. Tokens are taken after authentication
/// (``admit(_:)``), so the buckets are keyed by real client IDs only: their number is bounded
/// by the clients turned up, and a caller without the credentials cannot spend a client's
/// allowance. Before that, on the I/O thread, ``peek(_:)`` lets a request naming a client
/// whose bucket is empty be refused at once, without a worker or a database connection.
/// Buckets live in this process: with several instances each limits on its own.
public final class ClientRateLimiter: Sendable {
    /// The rate and burst of every client.
    public struct Settings: Sendable, Equatable {
        /// Sustained requests per second per client.
        public var requestsPerSecond: Double
        /// Requests a client may make at once after a quiet period (the bucket's size).
        public var burst: Int

        /// `burst` defaults to two seconds' worth of requests (at least 1).
        public init(requestsPerSecond: Double, burst: Int? = nil) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst ?? Self.defaultBurst(requestsPerSecond: requestsPerSecond)
        }

        /// Two seconds' worth of requests, at least 1.
        public static func defaultBurst(requestsPerSecond: Double) -> Int {
            max(1, Int((2 * requestsPerSecond).rounded(.up)))
        }
    }

    /// Whether a request may go ahead.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Over the limit; a token is available again in this many seconds (at least 1).
        case limited(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    public let settings: Settings
    private let buckets = Mutex<[String: Bucket]>([:])
    private let clock: @Sendable () -> UInt64
    private let limitedCounter: Counter

    /// - Parameter clock: monotonic nanoseconds (tests pass their own).
    public init(settings: Settings, clock: @escaping @Sendable () -> UInt64 = ClientRateLimiter.monotonicNanoseconds) {
        precondition(settings.requestsPerSecond > 0 && settings.burst >= 1, "rate and burst must be positive")
        self.settings = settings
        self.clock = clock
        self.limitedCounter = Counter(label: "http_requests_shed_total", dimensions: [("reason", "rate_limited")])
    }

    /// Would ``admit(_:)`` refuse `clientId` now? Takes no token, changes nothing.
    public func peek(_ clientId: String) -> Decision {
        let now = clock()
        return buckets.withLock { buckets -> Decision in
            guard let bucket = buckets[clientId] else { return .allowed }
            let tokens = now > bucket.updatedNanos
                ? min(Double(settings.burst), bucket.tokens + Double(now - bucket.updatedNanos) / 1e9 * settings.requestsPerSecond)
                : bucket.tokens
            return tokens >= 1 ? .allowed : Self.limited(tokens: tokens, rate: settings.requestsPerSecond)
        }
    }

    /// Counts a request refused after ``peek(_:)`` (``admit(_:)`` counts its own).
    public func countRefusal() {
        limitedCounter.increment()
    }

    private static func limited(tokens: Double, rate: Double) -> Decision {
        .limited(retryAfterSeconds: max(1, Int(((1 - tokens) / rate).rounded(.up))))
    }

    /// Takes a token from `clientId`'s bucket if it has one.
    public func admit(_ clientId: String) -> Decision {
        let now = clock()
        let rate = settings.requestsPerSecond
        let capacity = Double(settings.burst)
        let decision = buckets.withLock { buckets -> Decision in
            var bucket = buckets[clientId] ?? Bucket(tokens: capacity, updatedNanos: now)
            if now > bucket.updatedNanos {
                bucket.tokens = min(capacity, bucket.tokens + Double(now - bucket.updatedNanos) / 1e9 * rate)
                bucket.updatedNanos = now
            }
            defer { buckets[clientId] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return .allowed
            }
            return Self.limited(tokens: bucket.tokens, rate: rate)
        }
        if case .limited = decision { limitedCounter.increment() }
        return decision
    }

    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
