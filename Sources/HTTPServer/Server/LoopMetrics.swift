import CoreMetrics
import HTTPTypes
import Metrics

/// swift-metrics objects of one event loop, created on first use and cached so the hot path
/// does a dictionary lookup instead of asking the metrics factory (which locks and allocates).
///
/// Label values are bounded: the route *template* (or `unmatched` / `invalid`), a method from
/// a fixed list (else `OTHER`), and the status code — never raw paths or arbitrary methods a
/// client could use to explode the number of series.
struct LoopMetrics {
    static let unmatchedRoute = -1
    static let invalidRequest = -2

    private static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]

    private let enabled: Bool
    private let templates: [String]
    /// Per route (index + 2, so the two pseudo-routes fit), the counters seen so far keyed by
    /// method and status: a handful each, so a linear scan beats hashing.
    private var counters: [[(key: Int, counter: Counter)]]
    private var timers: [Timer?]
    /// `http_requests_shed_total` by reason (see `EventLoop.ShedReason`).
    private var shedCounters: [Counter?] = []

    init(enabled: Bool, routes: [Route]) {
        self.enabled = enabled
        self.templates = routes.map(\.template)
        self.counters = Array(repeating: [], count: routes.count + 2)
        self.timers = Array(repeating: nil, count: routes.count + 2)
    }

    static func methodIndex(_ method: String) -> UInt8 {
        switch method {
        case "GET": return 0
        case "HEAD": return 1
        case "POST": return 2
        case "PUT": return 3
        case "PATCH": return 4
        case "DELETE": return 5
        case "OPTIONS": return 6
        default: return 7
        }
    }

    private func routeLabel(_ route: Int) -> String {
        switch route {
        case Self.unmatchedRoute: return "unmatched"
        case Self.invalidRequest: return "invalid"
        default: return templates[route]
        }
    }

    /// Counts one request shed by admission control (it is also counted, as a 503, by
    /// ``record(route:method:status:durationNanos:)``).
    mutating func recordShed(reason: Int, label: String) {
        guard enabled else { return }
        if reason >= shedCounters.count {
            shedCounters.append(contentsOf: repeatElement(nil, count: reason + 1 - shedCounters.count))
        }
        if shedCounters[reason] == nil {
            shedCounters[reason] = Counter(label: "http_requests_shed_total", dimensions: [("reason", label)])
        }
        shedCounters[reason]!.increment()
    }

    /// Counts one response and records its duration.
    mutating func record(route: Int, method: String, status: Int, durationNanos: UInt64) {
        guard enabled else { return }
        let slot = route + 2
        let methodIndex = Self.methodIndex(method)
        let key = Int(methodIndex) << 16 | status
        var counter: Counter?
        for entry in counters[slot] where entry.key == key {
            counter = entry.counter
            break
        }
        if counter == nil {
            let made = Counter(
                label: "http_requests_total",
                dimensions: [("route", routeLabel(route)), ("method", Self.methods[Int(methodIndex)]), ("status", String(status))])
            counters[slot].append((key, made))
            counter = made
        }
        counter!.increment()
        let timer: Timer
        if let existing = timers[slot] {
            timer = existing
        } else {
            timer = Timer(label: "http_request_duration_seconds", dimensions: [("route", routeLabel(route))])
            timers[slot] = timer
        }
        timer.recordNanoseconds(Int64(clamping: durationNanos))
    }
}
