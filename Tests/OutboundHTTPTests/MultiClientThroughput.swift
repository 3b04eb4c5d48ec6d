import Foundation
import OutboundHTTP
import Synchronization
import Testing

/// Not a test: deliveries a second through the multi client to a local endpoint that answers
/// at once (nginx with `return 204;`), for sizing the delivery engine. Run in release mode with
/// `OUTBOUND_BENCH_URL=http://127.0.0.1:<port>/hook` (and optionally `OUTBOUND_BENCH_COUNT`,
/// `OUTBOUND_BENCH_IN_FLIGHT`, `OUTBOUND_BENCH_CONNECTIONS`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["OUTBOUND_BENCH_URL"] != nil))
struct MultiClientThroughput {
    @Test func postsPerSecond() async throws {
        let environment = ProcessInfo.processInfo.environment
        let url = try #require(environment["OUTBOUND_BENCH_URL"])
        let count = environment["OUTBOUND_BENCH_COUNT"].flatMap(Int.init) ?? 20_000
        let inFlight = environment["OUTBOUND_BENCH_IN_FLIGHT"].flatMap(Int.init) ?? 64
        let connections = environment["OUTBOUND_BENCH_CONNECTIONS"].flatMap(Int.init) ?? 16
        let client = try OutboundHTTPMultiClient(configuration: .init(
            maxConcurrentTransfers: inFlight, maxConnectionsPerHost: connections, maxQueuedTransfers: count
        ))
        defer { client.close() }
        // A 1 KiB JSON body, about the size of a change event.
        let body = Array(("{\"type\":\"prospect.updated\",\"data\":\"" + String(repeating: "x", count: 980) + "\"}").utf8)

        let failures = Atomic(0)
        let newConnections = Atomic(0)
        let clock = ContinuousClock()
        let start = clock.now
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Atomic(count)
            for index in 0..<count {
                let request = OutboundRequest(method: "POST", url: url, headers: [("Content-Type", "application/json"), ("webhook-id", "evt_\(index)")], body: body)
                client.submit(request) { result in
                    switch result {
                    case .success(let response):
                        if !(200..<300).contains(response.status) { failures.add(1, ordering: .relaxed) }
                        newConnections.add(response.newConnections, ordering: .relaxed)
                    case .failure:
                        failures.add(1, ordering: .relaxed)
                    }
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                }
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("multi client: \(count) POSTs in \(String(format: "%.2f", seconds)) s = \(Int(Double(count) / seconds))/s, "
              + "\(inFlight) in flight, \(connections) connections per host, \(newConnections.load(ordering: .relaxed)) connections opened, "
              + "\(failures.load(ordering: .relaxed)) failures")
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
