import Foundation
@testable import OutboundHTTP
import Synchronization
import Testing

/// The connect-time address rule (`refusePrivateAddresses`) and the start deadline of queued
/// transfers, against real servers on 127.0.0.1 over real libcurl.
@Suite struct WebhookAddressGuardTests {
    @Test func aLoopbackAddressIsRefusedBeforeAnyConnectionUnlessAllowed() async throws {
        let server = try LoopbackHTTPServer { _ in .respond(LoopbackHTTPServer.response(status: 204, reason: "No Content")) }
        defer { server.stop() }
        let client = try OutboundHTTPMultiClient()
        defer { client.close() }
        for url in [server.baseURL + "/hook", "http://localhost:\(server.port)/hook"] {
            let refused = await Result { () async throws(OutboundHTTPError) in
                try await client.send(OutboundRequest(method: "POST", url: url, body: [], refusePrivateAddresses: true))
            }
            guard case .failure(let error) = refused else {
                Issue.record("\(url) was not refused")
                continue
            }
            #expect(error.kind == .addressRefused, "\(error)")
            #expect(error.message.contains("(loopback)"), "\(error.message)")
        }
        #expect(server.acceptedConnections == 0, "not even a connection was made")
        let allowed = try await client.send(OutboundRequest(method: "POST", url: server.baseURL + "/hook", body: []))
        #expect(allowed.status == 204)
        #expect(server.acceptedConnections == 1)
        // The blocking client prepares transfers the same way (a fresh connection: a reused one
        // was checked, or not, when it was opened).
        #expect(throws: OutboundHTTPError.self, "the blocking client applies the rule too") {
            try OutboundHTTPClient().send(OutboundRequest(url: server.baseURL + "/hook", freshConnection: true, refusePrivateAddresses: true))
        }
    }

    @Test func aTransferStillQueuedAtItsStartDeadlineIsNeverStarted() async throws {
        let slow = try LoopbackHTTPServer { _ in
            usleep(800_000)
            return .respond(LoopbackHTTPServer.response(status: 204, reason: "No Content"))
        }
        defer { slow.stop() }
        let client = try OutboundHTTPMultiClient(configuration: .init(maxConcurrentTransfers: 4, maxConnectionsPerHost: 1))
        defer { client.close() }
        let deadline = ContinuousClock.now + .milliseconds(300)
        let kinds = Mutex<[OutboundHTTPError.Kind?]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Atomic(3)
            for _ in 0..<3 {
                client.submit(OutboundRequest(method: "POST", url: slow.baseURL + "/hook", body: [], startDeadline: deadline)) { result in
                    kinds.withLock { $0.append(result.failureKind) }
                    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                }
            }
        }
        // One starts at once; the two queued behind it pass their deadline while it runs.
        #expect(kinds.withLock { $0 }.filter { $0 == nil }.count == 1)
        #expect(kinds.withLock { $0 }.filter { $0 == .notStarted }.count == 2)
        #expect(slow.requests.count == 1)
    }
}

extension Result where Failure == OutboundHTTPError {
    var failureKind: OutboundHTTPError.Kind? {
        if case .failure(let error) = self { return error.kind }
        return nil
    }
}
