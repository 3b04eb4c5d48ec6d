import Foundation
import OutboundHTTP
import Postgres
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two `serve` processes on one database, no proxy between them.
extension FaultTests {
    /// Both start at the same moment on an empty database (both migrate at start-up);
    /// then threads spread over both race the same external ids and the same
    /// `Idempotency-Key`s: one record per external id, one execution per key.
    @Test func twoInstancesOnOneDatabaseMigrateOnceKeepOneRecordPerIdAndRunEachKeyOnce() throws {
        try TurnupDatabase.with { empty in try Self.raceTwoInstances(url: empty.url) }
    }

    private static func raceTwoInstances(url: String) throws {
        // Both at once, against the empty database.
        let instances = [try ReceiverProcess(environment: ["DATABASE_URL": url]), try ReceiverProcess(environment: ["DATABASE_URL": url])]
        for instance in instances { try instance.waitUntilListening() }
        let database = try PostgresConnection.connect(try PostgresConfiguration(url: url))
        defer { database.close() }
        let files = try FileManager.default.contentsOfDirectory(atPath: Executable.repositoryRoot + "/migrations").filter { $0.hasSuffix(".sql") }
        let recorded = try database.query("SELECT count(*), count(DISTINCT version) FROM schema_migrations").first!.decode((Int, Int).self)
        let appliedBy = instances.map { $0.log.components(separatedBy: "applied migration ").count - 1 }
        let waitedForLock = instances.filter { $0.log.contains("another process is migrating this database") }.count
        #expect(recorded == (files.count, files.count), "schema_migrations: \(recorded), files: \(files.count)")
        // Each migration is applied once, by whichever instance takes its lock first
        // (one lock per step, so the two may share the work).
        #expect(appliedBy.reduce(0, +) == files.count, "migrations applied per instance: \(appliedBy)")

        let credentials = try ConnectorCredentials.turnUp("acme", environment: ["DATABASE_URL": url])
        let ports = instances.map(\.port)
        let threads = 8
        let rounds = 25

        // Saves: in each round every thread saves the same new external id, half of them
        // on each instance, released at the same moment.
        let saves = Self.race(threads: threads, rounds: rounds) { thread, round in
            let id = "race-\(round)"
            return Exchange.send(OutboundRequest(
                method: "PUT", url: "http://127.0.0.1:\(ports[thread % 2])/v1/prospects/by-external-id/\(id)",
                headers: [("Content-Type", "application/json")], body: LoadWriters.body(id),
                basicAuth: credentials.basicAuth, totalTimeout: .seconds(30)))
        }
        // Creates: in each round every thread posts the same create with the same key.
        let creates = Self.race(threads: threads, rounds: rounds) { thread, round in
            Exchange.send(OutboundRequest(
                method: "POST", url: "http://127.0.0.1:\(ports[thread % 2])/v1/prospects",
                headers: [("Content-Type", "application/json"), ("Idempotency-Key", "key-\(round)")],
                body: Array(#"{"clubId": "club-001", "firstName": "Keyed", "lastName": "key-\#(round)"}"#.utf8),
                basicAuth: credentials.basicAuth, totalTimeout: .seconds(30)))
        }

        // Each save counted once, answered by a batch or alone, on one instance or the other.
        let counted = try instances.map { instance -> Int in
            let metrics = String(decoding: try instance.get("/metrics").body, as: UTF8.self)
            return metrics.split(separator: "\n")
                .filter { $0.hasPrefix("receiver_saves_total{") && $0.contains(#"resource="prospect""#) }
                .compactMap { Int($0.split(separator: " ").last ?? "") }
                .reduce(0, +)
        }
        #expect(counted.reduce(0, +) == threads * rounds, "receiver_saves_total per instance: \(counted)")

        var saveProblems: [String] = []
        for (round, exchanges) in saves.enumerated() {
            let ids = Set(exchanges.compactMap { Self.json($0)["id"] as? String })
            let created = exchanges.filter { $0.status == 201 }.count
            if created != 1 || ids.count != 1 || !exchanges.allSatisfy(\.isSuccess) {
                saveProblems.append("race-\(round): \(statusCounts(exchanges)), record ids \(ids.count)")
            }
        }
        var createProblems: [String] = []
        for (round, exchanges) in creates.enumerated() {
            let executed = exchanges.filter { $0.headers["idempotent-replayed"] == nil }.count
            let distinct = Set(exchanges.map { "\($0.status) \($0.headers["etag"] ?? "") \($0.headers["location"] ?? "") \(String(decoding: $0.body, as: UTF8.self))" })
            if executed != 1 || distinct.count != 1 || !exchanges.allSatisfy({ $0.status == 201 }) {
                createProblems.append("key-\(round): \(statusCounts(exchanges)), executed \(executed), distinct responses \(distinct.count)")
            }
        }
        let perId = try database.query("""
            SELECT count(*), count(DISTINCT external_id), coalesce(max(version), 0) FROM prospects WHERE external_id LIKE 'race-%'
            """).first!.decode((Int, Int, Int).self)
        let perKey = try database.query("""
            SELECT count(*), count(DISTINCT last_name) FROM prospects WHERE last_name LIKE 'key-%'
            """).first!.decode((Int, Int).self)
        let keys = try database.query("SELECT count(*) FROM idempotency_keys").first!.decode(0, as: Int.self)
        let all = saves.flatMap { $0 } + creates.flatMap { $0 }

        print("reliability: two instances on one database: migrations applied per instance \(appliedBy) (\(waitedForLock) waited for the other's lock), schema_migrations rows \(recorded.0); "
              + "saves \(saves.count) ids × \(threads) [\(statusCounts(saves.flatMap { $0 }))] → records \(perId.0) for \(perId.1) ids, max version \(perId.2); "
              + "creates \(creates.count) keys × \(threads) [\(statusCounts(creates.flatMap { $0 }))] → records \(perKey.0) for \(perKey.1) keys, key rows \(keys); "
              + "max latency \(format(all.map(\.seconds).max() ?? 0))")
        #expect(saveProblems.isEmpty, "\(saveProblems)")
        #expect(createProblems.isEmpty, "\(createProblems)")
        #expect(perId == (rounds, rounds, 1), "one record per external id, unchanged by the repeats")
        #expect(perKey == (rounds, rounds), "one execution per key")
        #expect(keys == rounds)

        for instance in instances { instance.signal(SIGTERM) }
        for instance in instances { #expect(try instance.waitForExit() == 0) }
    }

    /// Runs `rounds` rounds; in each, `threads` threads run `body` released at once.
    /// Returns each round's exchanges.
    static func race(threads: Int, rounds: Int, _ body: @escaping @Sendable (_ thread: Int, _ round: Int) -> Exchange) -> [[Exchange]] {
        let results = Mutex<[[Exchange]]>(Array(repeating: [], count: rounds))
        let go = (0..<threads).map { _ in DispatchSemaphore(value: 0) }
        let done = DispatchSemaphore(value: 0)
        for thread in 0..<threads {
            Thread.detachNewThread {
                for round in 0..<rounds {
                    go[thread].wait()
                    let exchange = body(thread, round)
                    results.withLock { $0[round].append(exchange) }
                    done.signal()
                }
            }
        }
        for _ in 0..<rounds {
            for semaphore in go { semaphore.signal() }
            for _ in 0..<threads { done.wait() }
        }
        return results.withLock { $0 }
    }

    static func json(_ exchange: Exchange) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(exchange.body)) as? [String: Any]) ?? [:]
    }
}
