import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults under load, against the built `connector-receiver serve`: the server killed,
/// its database stopped or hung, two instances on one database. Each test proves that
/// nothing acknowledged is lost and prints its figures as `reliability:` lines.
///
/// One at a time: each puts load on the machine, and the hang test measures latency.
@Suite(.serialized) struct FaultTests {
    /// Saves under load; the server SIGKILLed mid-load and restarted on the same data
    /// directory (embedded default: the restart stops the orphaned cluster and starts
    /// its own), twice. Every acknowledged save must be there, once, as sent.
    @Test func acknowledgedSavesSurviveSIGKILLOfTheServer() throws {
        let dataDirectory = "/tmp/cr-crash-" + UUID().uuidString.prefix(8).lowercased()
        defer { Self.removeEmbeddedCluster(dataDirectory) }
        var server = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
        try server.waitUntilListening()
        let credentials = try ConnectorCredentials.turnUp("acme", arguments: ["--data-dir", dataDirectory], environment: ["DATABASE_URL": ""])

        let port = Mutex(server.port)
        let writers = LoadWriters(prefix: "crash", threads: 6, credentials: credentials, port: { _ in port.withLock { $0 } })
        let started = ContinuousClock.now
        writers.start()
        var outages: [String] = []
        for cycle in 1...2 {
            try writers.waitForAcknowledged(150, timeout: .seconds(60))
            let killed = ContinuousClock.now
            server.signal(SIGKILL)
            try server.waitUntilGone()
            server = try ReceiverProcess(arguments: ["--data-dir", dataDirectory])
            try server.waitUntilListening()
            #expect(server.log.contains("left running by an earlier run"), "cycle \(cycle): the orphaned cluster was not stopped:\n\(server.log)")
            port.withLock { $0 = server.port }
            let recovered = try writers.waitForAcknowledged(1, since: killed, timeout: .seconds(60))
            outages.append("kill \(cycle) → first 2xx after restart \(format((recovered - killed).seconds))")
        }
        try writers.waitForAcknowledged(150, timeout: .seconds(60))
        try writers.stop()
        let elapsed = ContinuousClock.now - started

        let saves = writers.all
        let stored = try StoredProspects.read(port: server.port, credentials: credentials)
        let check = DurabilityCheck(saves: saves, stored: stored)
        // Killed mid-batch: every record and its events committed together or not at all.
        let feed = try FeedAgreement.check(port: server.port, credentials: credentials, against: stored)
        print("reliability: SIGKILL of serve under load (embedded PostgreSQL, 6 writers, 2 kills, \(format(elapsed.seconds))): "
              + "requests \(saves.count) [\(statusCounts(saves.map(\.exchange)))]; \(check.summary); \(outages.joined(separator: "; ")); "
              + "change feed: \(feed.summary)")
        check.expectNothingLost()
        #expect(feed.disagreeing.isEmpty && feed.orphans == 0, "\(feed.disagreeing.prefix(10))")
        // What the writers may see: 2xx, or no answer while the server is down. Never an error.
        #expect(saves.allSatisfy { $0.exchange.isSuccess || $0.exchange.status == -1 || $0.exchange.status == 503 },
                "\(statusCounts(saves.map(\.exchange)))")

        server.signal(SIGTERM)
        #expect(try server.waitForExit() == 0)
    }

    /// Stops a cluster left running under `dataDirectory` and deletes the directory.
    static func removeEmbeddedCluster(_ dataDirectory: String) {
        if let pid = postmasterPID(pgdata: dataDirectory + "/pgdata") {
            kill(pid, SIGQUIT)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}
