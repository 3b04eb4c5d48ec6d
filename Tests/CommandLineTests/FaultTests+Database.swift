import Foundation
import TestSupport
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

        let stopBegan = ContinuousClock.now
        try rig.cluster.stopImmediately()
        let stopped = ContinuousClock.now
        usleep(3_000_000)
        let startBegan = ContinuousClock.now
        try rig.cluster.start()
        let started = ContinuousClock.now
        let recovered = try rig.writers.waitForAcknowledged(1, since: startBegan, timeout: .seconds(30))
        try rig.writers.waitForAcknowledged(150, since: started, timeout: .seconds(60))
        try rig.stop()

        let saves = rig.writers.all
        let exchanges = saves.map(\.exchange)
        // Entirely while no server process ran (between pg_ctl stop and pg_ctl start).
        let down = exchanges.filter { $0.started >= stopped && $0.finished <= startBegan }
        let readiness = rig.probe.all
        let readinessDown = readiness.filter { $0.started >= stopped && $0.finished <= startBegan }
        let readyAgain = readiness.first { $0.started >= startBegan && $0.status == 200 }
        let check = DurabilityCheck(saves: saves, stored: try StoredProspects.read(port: rig.server.port, credentials: rig.credentials))
        print("reliability: database stopped (pg_ctl -m immediate) under load, from stop to restarted \(format((started - stopBegan).seconds)) "
              + "(no server process for \(format((startBegan - stopped).seconds)), start took \(format((started - startBegan).seconds))): "
              + "requests \(exchanges.count) [\(statusCounts(exchanges))] (503s: \(unavailableTypes(exchanges))), while down [\(statusCounts(down))], "
              + "max latency \(format(exchanges.map(\.seconds).max() ?? 0)); /readyz [\(statusCounts(readiness))], while down [\(statusCounts(readinessDown))]; "
              + "first 2xx \(format((recovered - started).seconds)) after pg_ctl start returned, "
              + "/readyz 200 after \(format(readyAgain.map { ($0.finished - started).seconds } ?? -1)); \(check.summary)")

        check.expectNothingLost()
        #expect(!down.isEmpty && down.allSatisfy { $0.status == 503 }, "while down: \(statusCounts(down))")
        #expect(exchanges.allSatisfy { $0.isSuccess || $0.status == 503 }, "never a 500 or a lost answer: \(statusCounts(exchanges))")
        let unavailable = exchanges.filter { $0.status == 503 }
        #expect(unavailable.allSatisfy { $0.retryAfter != nil }, "every 503 says when to retry")
        #expect(unavailable.allSatisfy { $0.problemType?.hasPrefix("urn:connector-receiver:problem:") == true })
        #expect(!readinessDown.isEmpty && readinessDown.allSatisfy { $0.status == 503 }, "/readyz while down: \(statusCounts(readinessDown))")
        #expect((recovered - started) < .seconds(5), "recovered \(recovered - started) after the database was back")
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

        try rig.cluster.freeze()
        let frozen = ContinuousClock.now  // every server process stopped
        usleep(20_000_000)
        let thawing = ContinuousClock.now
        rig.cluster.thaw()
        let thawed = ContinuousClock.now
        let recovered = try rig.writers.waitForAcknowledged(1, since: thawed, timeout: .seconds(30))
        try rig.writers.waitForAcknowledged(150, since: thawed, timeout: .seconds(60))
        try rig.stop()

        let saves = rig.writers.all
        let exchanges = saves.map(\.exchange)
        // Every exchange that waited on the database during the hang, and those that
        // began once it hung (the ones in flight at the freeze may still succeed).
        let overlapping = exchanges.filter { $0.finished >= frozen && $0.started <= thawed }
        let begunDuring = exchanges.filter { $0.started >= frozen && $0.started <= thawed }
        let answeredDuring = begunDuring.filter { $0.finished < thawing }
        let readiness = rig.probe.all
        let readinessDuring = readiness.filter { $0.started >= frozen && $0.finished < thawing }
        let maxLatency = (overlapping + readiness.filter { $0.finished >= frozen && $0.started <= thawed }).map(\.seconds).max() ?? 0
        let check = DurabilityCheck(saves: saves, stored: try StoredProspects.read(port: rig.server.port, credentials: rig.credentials))
        print("reliability: database hung (SIGSTOP of every server process) under load for \(format((thawed - frozen).seconds)): "
              + "requests \(exchanges.count) [\(statusCounts(exchanges))] (503s: \(unavailableTypes(exchanges))); in flight at the freeze or begun during the hang [\(statusCounts(overlapping))], "
              + "begun during the hang and answered before SIGCONT [\(statusCounts(answeredDuring))]; latencies of the 503s [\(latencyCounts(overlapping.filter { $0.status == 503 }))]; "
              + "max latency \(format(maxLatency)) (pool wait + database timeout: \(format(Self.poolTimeout + Self.databaseResponseTimeout))); "
              + "/readyz begun and answered during the hang [\(statusCounts(readinessDuring))]; "
              + "first 2xx \(format((recovered - thawed).seconds)) after SIGCONT; \(check.summary)")

        check.expectNothingLost()
        #expect(exchanges.allSatisfy { $0.isSuccess || $0.status == 503 }, "never a 500 or a lost answer: \(statusCounts(exchanges))")
        #expect(exchanges.filter { $0.status == 503 }.allSatisfy { $0.retryAfter != nil })
        #expect(!answeredDuring.isEmpty && answeredDuring.allSatisfy { $0.status == 503 }, "answered while the database hung: \(statusCounts(answeredDuring))")
        #expect(!readinessDuring.isEmpty && readinessDuring.allSatisfy { $0.status == 503 }, "/readyz during the hang: \(statusCounts(readinessDuring))")
        #expect(maxLatency < Self.poolTimeout + Self.databaseResponseTimeout + 1.5, "a request waited \(format(maxLatency))")
        #expect((recovered - thawed) < .seconds(10))
    }
}
