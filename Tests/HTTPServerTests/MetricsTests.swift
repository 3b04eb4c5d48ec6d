import CoreMetrics
import Glibc
import Synchronization
import Testing
@testable import HTTPServer

/// Records what the server emits through swift-metrics.
final class RecordingMetrics: MetricsFactory, Sendable {
    final class Value: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler, Sendable {
        let total = Mutex<Double>(0)
        let samples = Mutex<Int>(0)
        func increment(by amount: Int64) { total.withLock { $0 += Double(amount) } }
        func increment(by amount: Double) { total.withLock { $0 += amount } }
        func decrement(by amount: Double) { total.withLock { $0 -= amount } }
        func reset() { total.withLock { $0 = 0 } }
        func set(_ value: Int64) { total.withLock { $0 = Double(value) } }
        func set(_ value: Double) { total.withLock { $0 = value } }
        func record(_ value: Int64) { samples.withLock { $0 += 1 } }
        func record(_ value: Double) { samples.withLock { $0 += 1 } }
        func recordNanoseconds(_ duration: Int64) { samples.withLock { $0 += 1 } }
    }

    private let values = Mutex<[String: Value]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Value? {
        values.withLock { $0[Self.key(label, dimensions)] }
    }

    private func make(_ label: String, _ dimensions: [(String, String)]) -> Value {
        values.withLock { values in
            let key = Self.key(label, dimensions)
            if let existing = values[key] { return existing }
            let value = Value()
            values[key] = value
            return value
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { make(label, dimensions) }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { make(label, dimensions) }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { make(label, dimensions) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { make(label, dimensions) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { make(label, dimensions) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// MetricsSystem can be bootstrapped once per process.
    static let shared: RecordingMetrics = {
        let metrics = RecordingMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()
}

extension EndToEnd {
    @Suite("Metrics")
    struct Metrics {
        @Test func requestsAreCountedByRouteTemplateMethodAndStatus() throws {
            let metrics = RecordingMetrics.shared
            // Other tests' servers may have counted into the process-wide factory before.
            let okBefore = metrics.value("http_requests_total", [("route", "/items/{id}"), ("method", "GET"), ("status", "200")])?
                .total.withLock { $0 } ?? 0
            try withServer(configure: { $0.metrics = true }) { server, port in
                let client = try TestClient(port: port)
                for id in ["1", "2", "3"] {
                    try client.send("GET /items/\(id) HTTP/1.1\r\nHost: t\r\n\r\n")
                    _ = try client.readResponse()
                }
                try client.send("GET /nowhere/\(UInt32.random(in: 0...UInt32.max)) HTTP/1.1\r\nHost: t\r\n\r\n")
                _ = try client.readResponse()
                try client.send("BREW /items/1 HTTP/1.1\r\nHost: t\r\n\r\n")
                _ = try client.readResponse()

                let ok = metrics.value("http_requests_total", [("route", "/items/{id}"), ("method", "GET"), ("status", "200")])
                #expect(ok?.total.withLock { $0 } == okBefore + 3)
                // Raw paths and arbitrary methods never become label values.
                let missing = metrics.value("http_requests_total", [("route", "unmatched"), ("method", "GET"), ("status", "404")])
                #expect((missing?.total.withLock { $0 } ?? 0) >= 1)
                let other = metrics.value("http_requests_total", [("route", "unmatched"), ("method", "OTHER"), ("status", "405")])
                #expect((other?.total.withLock { $0 } ?? 0) >= 1)
                let timer = metrics.value("http_request_duration_seconds", [("route", "/items/{id}")])
                #expect((timer?.samples.withLock { $0 } ?? 0) >= 3)
                let open = metrics.value("http_open_connections")
                #expect(open?.total.withLock { $0 } == Double(server.openConnections))
            }
        }
    }
}
