import Foundation

/// When a failed delivery is tried again: the written-down schedule, with jitter, and what a
/// `Retry-After` may add.
///
/// The default, delays before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, then
/// 10 h seven times — 13 attempts over 3 days 5 h 35 min (before jitter). After the last one
/// fails the delivery is `failed` (kept; recover or resend sends it again). Each delay is
/// stretched or shrunk by up to ``jitter`` at random, so that the deliveries an outage failed
/// together do not all come back in the same second. A `Retry-After` is honoured up to
/// ``maximumRetryAfter``: the next attempt waits for whichever is later, the schedule's or the
/// server's; an answer asking for longer than the bound gets the bound.
public struct WebhookRetrySchedule: Sendable, Equatable {
    /// Delays before attempt 1, 2, …; the first is normally zero.
    public var delays: [Duration]
    /// The fraction each delay may vary by, either way (0.2: ±20 %).
    public var jitter: Double
    /// The longest wait a `Retry-After` can impose.
    public var maximumRetryAfter: Duration

    public static let standard = WebhookRetrySchedule(
        delays: [.zero, .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000)]
            + Array(repeating: .seconds(36_000), count: 7),
        jitter: 0.2, maximumRetryAfter: .seconds(3600))

    public init(delays: [Duration], jitter: Double = 0.2, maximumRetryAfter: Duration = .seconds(3600)) {
        (self.delays, self.jitter, self.maximumRetryAfter) = (delays, jitter, maximumRetryAfter)
    }

    /// How many attempts a delivery gets before it is `failed`.
    public var attempts: Int { delays.count }

    /// How long after its `failures`-th failed attempt (1 for the first) a delivery is tried
    /// again, or nil when the schedule has run out. `retryAfter`: what the answer asked for.
    /// `random` is a number in 0..<1 (injected for tests).
    public func delay(afterFailures failures: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: 0..<1)) -> Duration? {
        guard failures >= 1, failures < delays.count else { return nil }
        let scheduled = delays[failures] * (1 + jitter * (2 * random - 1))
        guard let retryAfter else { return scheduled }
        return max(scheduled, min(retryAfter, maximumRetryAfter))
    }

    /// Parses `0,5s,5m,30m,2h,5h,10h`: delays in seconds (plain numbers, fractions allowed) or
    /// with a unit `ms`, `s`, `m`, `h`, `d`; at least one, each at most 7 days. nil for text that is not one.
    public init?(parsing text: String, jitter: Double = 0.2, maximumRetryAfter: Duration = .seconds(3600)) {
        var delays: [Duration] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let word = part.trimmingCharacters(in: .whitespaces)
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
            var number = word, scale = 1.0
            if let unit = units.first(where: { word.hasSuffix($0.0) && Double(word.dropLast($0.0.count)) != nil }) {
                number = String(word.dropLast(unit.0.count))
                scale = unit.1
            }
            guard let value = Double(number), value >= 0, value * scale <= 7 * 86_400 else { return nil }
            delays.append(.milliseconds(Int64((value * scale * 1000).rounded())))
        }
        guard !delays.isEmpty else { return nil }
        self.init(delays: delays, jitter: jitter, maximumRetryAfter: maximumRetryAfter)
    }

    /// The schedule as `parsing` reads it, in seconds.
    public var text: String {
        delays.map { delay in
            let (seconds, attoseconds) = delay.components
            let milliseconds = attoseconds / 1_000_000_000_000_000
            return milliseconds == 0 ? "\(seconds)s" : "\(seconds * 1000 + milliseconds)ms"
        }.joined(separator: ",")
    }
}
