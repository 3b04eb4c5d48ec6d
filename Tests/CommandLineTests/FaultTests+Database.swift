import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The database behind `DATABASE_URL` stopped, then hung, under load.
extension FaultTests {
    /// `serve`'s default pool wait and database timeout (statement timeout + 2 s grace):
    /// together they bound a request while the database does not answer.
    static let poolTimeout = 5.0
    static let databaseResponseTimeout = 10.0 + 2.0

    /// A server on a cluster of the test's own, a client, writers and a readiness probe.
    struct Rig {
        let cluster: TestCluster
        let server: ReceiverProcess
        let credentials: ConnectorCredentials
        let writers: LoadWriters
        let probe: ReadinessProbe

        init(prefix: String) throws {
            cluster = try TestCluster()
            server = try ReceiverProcess(environment: ["DATABASE_URL": cluster.url])
            try server.waitUntilListening()
            credentials = try ConnectorCredentials.turnUp("acme", environment: ["DATABASE_URL": cluster.url])
            let port = server.port
            writers = LoadWriters(prefix: prefix, threads: 6, credentials: credentials, port: { _ in port })
            probe = ReadinessProbe(port: { port })
            writers.start()
        }

        func stop() throws {
            try writers.stop()
            probe.stop()
        }
    }

    @Test func aStoppedDatabaseIsA503AndTheServerRecoversWithNothingLost() throws {
        let rig = try Rig(prefix: "outage")
        defer { rig.cluster.destroy() }
        try rig.writers.waitForAcknowledged(150, timeout: .seconds(60))

        let stopped = ContinuousClock.now
        try rig.cluster.stopImmediately()
        usleep(3_000_000)
        try rig.cluster.start()
        let restarted = ContinuousClock.now
        let recovered = try rig.writers.waitForAcknowledged(1, since: restarted, timeout: .seconds(30))
        try rig.writers.waitForAcknowledged(150, since: restarted, timeout: .seconds(60))
        try rig.stop()

        let saves = rig.writers.all
        let exchanges = saves.map(\.exchange)
        let during = exchanges.filter { $0.started >= stopped && $0.finished <= restarted }
        let readiness = rig.probe.all
        let readyAgain = readiness.first { $0.started >= restarted && $0.status == 200 }
        let check = DurabilityCheck(saves: saves, stored: try StoredProspects.read(port: rig.server.port, credentials: rig.credentials))
        print("reliability: database stopped (pg_ctl -m immediate) under load, down \(format((restarted - stopped).seconds)): "
              + "requests \(exchanges.count) [\(statusCounts(exchanges))], while down [\(statusCounts(during))], "
              + "max latency while down \(format(during.map(\.seconds).max() ?? 0)); "
              + "/readyz [\(statusCounts(readiness))]; first 2xx \(format((recovered - restarted).seconds)) after the database was back, "
              + "/readyz 200 after \(format(readyAgain.map { ($0.finished - restarted).seconds } ?? -1)); \(check.summary)")

        check.expectNothingLost()
        #expect(!during.isEmpty && during.allSatisfy { $0.status == 503 }, "while down: \(statusCounts(during))")
        #expect(exchanges.allSatisfy { $0.isSuccess || $0.status == 503 }, "never a 500 or a lost answer: \(statusCounts(exchanges))")
        let unavailable = exchanges.filter { $0.status == 503 }
        #expect(unavailable.allSatisfy { $0.retryAfter != nil }, "every 503 says when to retry")
        #expect(unavailable.allSatisfy { $0.problemType?.hasPrefix("urn:connector-receiver:problem:") == true })
        #expect(readiness.contains { $0.status == 503 && $0.started >= stopped && $0.finished <= restarted }, "/readyz said ready while the database was down")
        #expect((recovered - restarted) < .seconds(5), "recovered \(recovered - restarted) after the database was back")
        #expect(readyAgain != nil)
        #expect((exchanges + readiness).allSatisfy { $0.seconds < Self.poolTimeout + Self.databaseResponseTimeout })
    }

    /// The database hangs (every server process SIGSTOPped for 20 s): the kernel still
    /// accepts connections, nobody answers. Requests are still answered, 503, within
    /// the pool wait plus the database timeout; after SIGCONT the server recovers.
    @Test func aHungDatabaseIsA503WithinTheDatabaseTimeoutAndNothingIsLost() throws {
        let rig = try Rig(prefix: "hang")
        defer { rig.cluster.destroy() }
        try rig.writers.waitForAcknowledged(150, timeout: .seconds(60))

        let frozen = ContinuousClock.now
        try rig.cluster.freeze()
        usleep(20_000_000)
        rig.cluster.thaw()
        let thawed = ContinuousClock.now
        let recovered = try rig.writers.waitForAcknowledged(1, since: thawed, timeout: .seconds(30))
        try rig.writers.waitForAcknowledged(150, since: thawed, timeout: .seconds(60))
        try rig.stop()

        let saves = rig.writers.all
        let exchanges = saves.map(\.exchange)
        // Every exchange that was waiting on the database during the hang.
        let during = exchanges.filter { $0.finished >= frozen && $0.started <= thawed }
        let answeredDuring = during.filter { $0.finished < thawed }
        let readiness = rig.probe.all
        let readinessDuring = readiness.filter { $0.finished >= frozen && $0.started <= thawed }
        let maxLatency = (during + readinessDuring).map(\.seconds).max() ?? 0
        let check = DurabilityCheck(saves: saves, stored: try StoredProspects.read(port: rig.server.port, credentials: rig.credentials))
        print("reliability: database hung (SIGSTOP of every server process) under load for \(format((thawed - frozen).seconds)): "
              + "requests \(exchanges.count) [\(statusCounts(exchanges))], during the hang [\(statusCounts(during))] of which \(answeredDuring.count) answered before SIGCONT, "
              + "max latency \(format(maxLatency)) (bound \(format(Self.poolTimeout + Self.databaseResponseTimeout))); /readyz during the hang [\(statusCounts(readinessDuring))]; "
              + "first 2xx \(format((recovered - thawed).seconds)) after SIGCONT; \(check.summary)")

        check.expectNothingLost()
        #expect(exchanges.allSatisfy { $0.isSuccess || $0.status == 503 }, "never a 500 or a lost answer: \(statusCounts(exchanges))")
        #expect(exchanges.filter { $0.status == 503 }.allSatisfy { $0.retryAfter != nil })
        #expect(answeredDuring.contains { $0.status == 503 }, "no request was answered while the database hung")
        #expect(readinessDuring.contains { $0.status == 503 && $0.finished < thawed }, "/readyz did not say not ready during the hang")
        #expect(maxLatency < Self.poolTimeout + Self.databaseResponseTimeout + 1.5, "a request waited \(format(maxLatency))")
        #expect((recovered - thawed) < .seconds(10))
    }
}
