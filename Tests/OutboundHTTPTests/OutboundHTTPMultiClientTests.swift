import Foundation
@testable import OutboundHTTP
import Synchronization
import Testing

/// The multi client against real HTTP/1.1 servers on 127.0.0.1 (no mocks): concurrency,
/// connection reuse, timeouts, per-host fairness, cancellation and shutdown.
/// Every wait is bounded in count and time; a hung transfer shows up as a failure, not a hang.
@Suite final class OutboundHTTPMultiClientTests: Sendable {
    /// The timeout of transfers to `/hang`, which the tests end by closing or cancelling: far
    /// beyond any stall of a test (on a loaded machine a test's async steps can wait a minute
    /// for a thread of the cooperative pool), so a timeout never stands in for the cancellation.
    static let neverEnds: Duration = .seconds(3_600)

    let server: LoopbackHTTPServer

    init() throws {
        server = try LoopbackHTTPServer(handler: multiRoutes)
    }

    deinit { server.stop() }

    // MARK: - Many transfers

    @Test func hundredsOfConcurrentPostsCompleteWithTheirOwnBodies() async throws {
        let client = try OutboundHTTPMultiClient(configuration: .init(requests: .init(version: "9.9.9"), maxConnectionsPerHost: 8))
        defer { client.close() }
        let count = 400
        let url = server.baseURL + "/echo"
        let outcomes = await withTaskGroup(of: (Int, Result<OutboundResponse, OutboundHTTPError>).self) { group in
            for index in 0..<count {
                group.addTask {
                    let body = Array("{\"delivery\":\(index)}".utf8)
                    let result = await Result { () async throws(OutboundHTTPError) -> OutboundResponse in
                        try await client.send(OutboundRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body))
                    }
                    return (index, result)
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        var failures: [String] = []
        var newConnections = 0
        for index in 0..<count {
            switch outcomes[index] {
            case .success(let response)?:
                newConnections += response.newConnections
                if response.status != 200 || response.bodyText != "{\"delivery\":\(index)}" || response.header("X-Method") != "POST" {
                    failures.append("\(index): \(response.status) \(response.bodyText)")
                }
            case .failure(let error)?: failures.append("\(index): \(error)")
            case nil: failures.append("\(index): no outcome")
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(server.requests.count == count)
        // Every request went out as HTTP/1.1 with our User-Agent and the body's own length.
        #expect(server.requests.allSatisfy { $0.rawText.hasPrefix("POST /echo HTTP/1.1\r\n") && $0.header("User-Agent") == "connector-receiver/9.9.9" })
        // Concurrent (more than one connection) yet reused: never more than the per-host bound.
        #expect(server.acceptedConnections > 1)
        #expect(server.acceptedConnections <= 8)
        #expect(newConnections == server.acceptedConnections)
        #expect(client.load == .init(running: 0, waiting: 0))
    }

    @Test func connectionsAreReusedUpToThePerHostBound() async throws {
        let client = try OutboundHTTPMultiClient(configuration: .init(maxConnectionsPerHost: 2))
        defer { client.close() }
        let responses = try await submitAll(client, (0..<60).map { OutboundRequest(url: server.baseURL + "/item/\($0)") }).map { try $0.result.get() }
        #expect(responses.map(\.bodyText) == (0..<60).map { "\($0)" })
        #expect(server.acceptedConnections >= 1 && server.acceptedConnections <= 2)
        #expect(responses.filter { $0.newConnections == 0 }.count >= 58)
        #expect(responses.allSatisfy { $0.remotePort == server.port && $0.timings.total > .zero })
    }

    @Test func completionsRunOnTheDriverThreadOncePerSubmission() async throws {
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let seen = Mutex<[Int: Int]>([:])
        let threads = Mutex<Set<UInt>>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Atomic(50)
            for index in 0..<50 {
                client.submit(OutboundRequest(url: server.baseURL + "/item/\(index)")) { result in
                    seen.withLock { $0[index, default: 0] += 1 }
                    threads.withLock { _ = $0.insert(UInt(pthread_self())) }
                    #expect((try? result.get())?.bodyText == "\(index)")
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                }
            }
        }
        #expect(seen.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, 1) }))
        #expect(threads.withLock { $0.count } == 1)
        #expect(!threads.withLock { $0.contains(UInt(pthread_self())) })
    }

    // MARK: - Failures

    @Test func aServerThatNeverAnswersTimesOutAndTheOthersAreUnaffected() async throws {
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let requests = [OutboundRequest(url: server.baseURL + "/hang", totalTimeout: .seconds(2))]
            + (0..<30).map { OutboundRequest(url: server.baseURL + "/item/\($0)") }
        let outcomes = await submitAll(client, requests)

        let hung = outcomes[0]
        let error = try #require(hung.error)
        #expect(error.kind == .totalTimeout)
        #expect(error.curlCode == 28)
        #expect(error.message.contains("no complete response within 2 s"))
        #expect(hung.elapsed >= .milliseconds(1900) && hung.elapsed < .seconds(6))
        let fast = outcomes.dropFirst()
        #expect(fast.map { $0.response?.bodyText } == (0..<30).map { "\($0)" })
        // All thirty answered while the hung one was still waiting.
        #expect(fast.allSatisfy { $0.elapsed < hung.elapsed })
    }

    @Test func aRefusedPortIsAConnectError() async throws {
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let port = try LoopbackHTTPServer.closedPort()
        let outcome = await submitAll(client, [OutboundRequest(method: "POST", url: "http://127.0.0.1:\(port)/hook", body: Array("{}".utf8))])[0]
        let error = try #require(outcome.error)
        #expect(error.kind == .couldNotConnect)
        #expect(error.curlCode == 7)
        #expect(error.message.contains("could not connect to 127.0.0.1:\(port): connection refused"))
        #expect(outcome.elapsed < .seconds(2))
    }

    @Test func aConnectThatStallsIsAConnectTimeout() async throws {
        let stalled = try UnresponsiveListener(fillAcceptQueue: true)
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let outcome = await submitAll(client, [OutboundRequest(
            url: "http://127.0.0.1:\(stalled.port)/hook", connectTimeout: .milliseconds(300), totalTimeout: .seconds(5)
        )])[0]
        let error = try #require(outcome.error)
        #expect(error.kind == .connectTimeout)
        #expect(error.curlCode == 28)
        #expect(error.message.contains("within 300 ms"))
        #expect(outcome.elapsed >= .milliseconds(250) && outcome.elapsed < .seconds(3))
        withExtendedLifetime(stalled) {}
    }

    @Test func aSlowEndpointDoesNotHoldUpAnother() async throws {
        let slow = try LoopbackHTTPServer { _ in
            usleep(1_500_000)
            return .respond(LoopbackHTTPServer.response(status: 204, reason: "No Content"))
        }
        defer { slow.stop() }
        // Four slots in all, two per host: the slow host fills its two and queues the rest in
        // its own line; the fast host gets the other two.
        let client = try OutboundHTTPMultiClient(configuration: .init(maxConcurrentTransfers: 4, maxConnectionsPerHost: 2))
        defer { client.close() }
        let slowRequests = (0..<6).map { _ in
            OutboundRequest(method: "POST", url: slow.baseURL + "/hook", body: [], totalTimeout: .seconds(10))
        }
        let fastRequests = (0..<40).map { OutboundRequest(url: server.baseURL + "/item/\($0)") }
        let outcomes = await submitAll(client, slowRequests + fastRequests)
        let slowOutcomes = outcomes.prefix(6)
        let fastOutcomes = outcomes.dropFirst(6)

        #expect(fastOutcomes.map { $0.response?.bodyText } == (0..<40).map { "\($0)" })
        let lastFast = fastOutcomes.map(\.elapsed).max() ?? .zero
        let firstSlow = slowOutcomes.map(\.elapsed).min() ?? .zero
        #expect(lastFast < .milliseconds(1400))
        #expect(lastFast < firstSlow, "a slow transfer finished before the fast ones")
        // The slow host's six still complete, three rounds of two, their timeout counted from their start.
        #expect(slowOutcomes.allSatisfy { $0.response?.status == 204 }, "\(slowOutcomes.map { $0.error?.message })")
        #expect(slowOutcomes.map(\.elapsed).max()! >= .milliseconds(4400))
        #expect(slow.acceptedConnections <= 2)
    }

    // MARK: - Cancellation and shutdown

    @Test func closeCompletesEveryPendingTransferWithAnError() async throws {
        let client = try OutboundHTTPMultiClient(configuration: .init(maxConcurrentTransfers: 8, maxConnectionsPerHost: 4))
        let outcomes = Mutex<[Int: OutboundHTTPError.Kind]>([:])
        let successes = Atomic(0)
        let count = 30  // four in flight to the server, the rest waiting in its queue
        for index in 0..<count {
            client.submit(OutboundRequest(url: server.baseURL + "/hang", totalTimeout: Self.neverEnds)) { result in
                switch result {
                case .success: successes.add(1, ordering: .relaxed)
                case .failure(let error): outcomes.withLock { $0[index] = error.kind }
                }
            }
        }
        for _ in 0..<200 where server.requests.count < 4 || client.load != .init(running: 4, waiting: 26) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.requests.count == 4)
        #expect(client.load == .init(running: 4, waiting: 26))

        let elapsed = await onWorkerThread { () -> Duration in
            let clock = ContinuousClock()
            let start = clock.now
            client.close()
            return clock.now - start
        }
        #expect(elapsed < .seconds(2))
        // close() returns after every completion has run.
        #expect(outcomes.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, .cancelled) }))
        #expect(successes.load(ordering: .relaxed) == 0)
        #expect(client.load == .init(running: 0, waiting: 0))

        // Afterwards: refused at once, on the caller's thread; closing again is harmless.
        let late = Mutex<OutboundHTTPError?>(nil)
        client.submit(OutboundRequest(url: server.baseURL + "/item/1")) { result in
            if case .failure(let error) = result { late.withLock { $0 = error } }
        }
        #expect(late.withLock { $0 }?.kind == .cancelled)
        #expect(late.withLock { $0 }?.message.contains("closed") == true)
        client.close()
        #expect(server.requests.count == 4)
    }

    @Test func closeFromACompletionDoesNotDeadlock() async throws {
        let client = try OutboundHTTPMultiClient()
        let cancelled = Atomic(0)
        let hangURL = server.baseURL + "/hang"
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Atomic(6)
            let finish: @Sendable () -> Void = {
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
            }
            for _ in 0..<5 {
                client.submit(OutboundRequest(url: hangURL, totalTimeout: .seconds(60))) { result in
                    if case .failure(let error) = result, error.kind == .cancelled { cancelled.add(1, ordering: .relaxed) }
                    finish()
                }
            }
            client.submit(OutboundRequest(url: server.baseURL + "/item/closer")) { _ in
                client.close()  // on the driver thread: returns at once, the driver stops after this
                finish()
            }
        }
        #expect(cancelled.load(ordering: .relaxed) == 5)
        client.close()  // and again from here: nothing left to wait for
    }

    @Test func cancellingTheTaskCancelsItsTransfer() async throws {
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let url = server.baseURL + "/hang"
        let task = Task { () async throws(OutboundHTTPError) -> OutboundResponse in
            try await client.send(OutboundRequest(url: url, totalTimeout: .seconds(60)))
        }
        for _ in 0..<200 where server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.requests.count == 1)
        task.cancel()
        // Ended by the cancellation, not by the 60 s timeout (that would be `.totalTimeout`).
        let result = await task.result
        guard case .failure(let failure) = result, let error = failure as? OutboundHTTPError else {
            Issue.record("a cancelled transfer answered: \(result)")
            return
        }
        #expect(error.kind == .cancelled)
        #expect(error.message.contains("cancelled by the caller"))
        // The client goes on working.
        let after = try await client.send(OutboundRequest(url: server.baseURL + "/item/after"))
        #expect(after.bodyText == "after")
    }

    @Test func invalidRequestsAndAFullQueueAreRefusedAtOnce() async throws {
        let client = try OutboundHTTPMultiClient(configuration: .init(maxConcurrentTransfers: 1, maxQueuedTransfers: 2))
        defer { client.close() }
        let refusals = Mutex<[OutboundHTTPError.Kind]>([])
        let record: OutboundHTTPMultiClient.Completion = { result in
            if case .failure(let error) = result { refusals.withLock { $0.append(error.kind) } }
        }
        client.submit(OutboundRequest(method: "POST", url: server.baseURL + "/echo", headers: [("X-Bad", "a\r\nInjected: 1")]), completion: record)
        client.submit(OutboundRequest(url: "http://user:secret@127.0.0.1:\(server.port)/"), completion: record)
        #expect(refusals.withLock { $0 } == [.invalidRequest, .invalidURL])

        // One running (it never answers) holds the only slot; two may wait; the next is refused.
        client.submit(OutboundRequest(url: server.baseURL + "/hang", totalTimeout: Self.neverEnds), completion: record)
        for _ in 0..<200 where client.load != .init(running: 1, waiting: 0) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(client.load == .init(running: 1, waiting: 0))
        for _ in 0..<3 {
            client.submit(OutboundRequest(url: server.baseURL + "/hang", totalTimeout: Self.neverEnds), completion: record)
        }
        #expect(refusals.withLock { $0 } == [.invalidRequest, .invalidURL, .overloaded])
        #expect(!server.requests.contains { $0.rawText.contains("Injected") })
    }

    // MARK: - Retry-After

    @Test func retryAfterIsRead() async throws {
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        let seconds = try await client.send(OutboundRequest(method: "POST", url: server.baseURL + "/busy", body: []))
        #expect(seconds.status == 503)
        #expect(seconds.header("retry-after") == "120")
        #expect(seconds.retryAfter(now: 0) == .seconds(120))

        let dated = try await client.send(OutboundRequest(method: "POST", url: server.baseURL + "/limited", body: []))
        #expect(dated.status == 429)
        #expect(dated.retryAfter(now: 784_111_777 - 30) == .seconds(30))
        #expect(dated.retryAfter(now: 784_111_777 + 30) == .zero)

        let none = try await client.send(OutboundRequest(url: server.baseURL + "/item/x"))
        #expect(none.retryAfter(now: 0) == nil)
    }

    @Test(arguments: [
        ("120", Duration?.some(.seconds(120))),
        (" 0 ", .some(.zero)),
        ("Sun, 06 Nov 1994 08:49:37 GMT", .some(.seconds(37))),      // IMF-fixdate
        ("Sunday, 06-Nov-94 08:49:37 GMT", .some(.seconds(37))),     // RFC 850
        ("Sun Nov  6 08:49:37 1994", .some(.seconds(37))),           // asctime
        ("Sun, 06 Nov 1994 08:49:00 GMT", .some(.zero)),             // already past
        ("Sat, 29 Feb 2020 00:00:00 GMT", .some(.seconds(1_582_934_400 - 784_111_740))),
        ("-5", nil), ("1.5", nil), ("soon", nil), ("", nil),
        ("Sun, 06 Nov 1994 08:49:37 CET", nil), ("Sun, 06 Foo 1994 08:49:37 GMT", nil), ("Sun, 32 Nov 1994 08:49:37 GMT", nil),
    ])
    func retryAfterValues(value: String, expected: Duration?) {
        #expect(RetryAfter.delay(value, now: 784_111_740) == expected)
    }
}

// MARK: - Helpers

/// The standard routes plus the answers of a webhook endpoint asking to be left alone.
private let multiRoutes: @Sendable (LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Reply = { request in
    switch request.target {
    case "/busy":
        return .respond(LoopbackHTTPServer.response(status: 503, reason: "Service Unavailable", headers: [("Retry-After", "120")]))
    case "/limited":
        return .respond(LoopbackHTTPServer.response(status: 429, reason: "Too Many Requests", headers: [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")]))
    default:
        return standardRoutes(request)
    }
}

/// Submits every request at once through the callback API and waits for all of them; the
/// outcomes in request order. Each elapsed time runs from just before the first submission to
/// the completion, both measured off the cooperative pool (on this call's thread and on the
/// driver thread), so a pool busy with other suites' tests cannot stretch it.
private func submitAll(_ client: OutboundHTTPMultiClient, _ requests: [OutboundRequest]) async -> [Outcome] {
    let outcomes = Mutex<[Int: Outcome]>([:])
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let clock = ContinuousClock()
        let start = clock.now
        let remaining = Atomic(requests.count)
        for (index, request) in requests.enumerated() {
            client.submit(request) { result in
                let elapsed = clock.now - start
                outcomes.withLock { $0[index] = Outcome(result: result, elapsed: elapsed) }
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
            }
        }
    }
    let collected = outcomes.withLock { $0 }
    return requests.indices.map { collected[$0]! }
}

extension Result where Failure == OutboundHTTPError {
    /// `Result(catching:)` for typed-throwing async bodies.
    init(_ body: () async throws(OutboundHTTPError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
