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

    private struct CounterKey: Hashable {
        let route: Int
        let method: UInt8
        let status: Int
    }

    private static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]

    private let enabled: Bool
    private let templates: [String]
    private var counters: [CounterKey: Counter] = [:]
    private var timers: [Int: Timer] = [:]

    init(enabled: Bool, routes: [Route]) {
        self.enabled = enabled
        self.templates = routes.map(\.template)
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

    /// Counts one response and records its duration.
    mutating func record(route: Int, method: String, status: Int, durationNanos: UInt64) {
        guard enabled else { return }
        let key = CounterKey(route: route, method: Self.methodIndex(method), status: status)
        if let counter = counters[key] {
            counter.increment()
        } else {
            let counter = Counter(
                label: "http_requests_total",
                dimensions: [("route", routeLabel(route)), ("method", Self.methods[Int(key.method)]), ("status", String(status))])
            counters[key] = counter
            counter.increment()
        }
        if let timer = timers[route] {
            timer.recordNanoseconds(Int64(clamping: durationNanos))
        } else {
            let timer = Timer(label: "http_request_duration_seconds", dimensions: [("route", routeLabel(route))])
            timers[route] = timer
            timer.recordNanoseconds(Int64(clamping: durationNanos))
        }
    }
}
