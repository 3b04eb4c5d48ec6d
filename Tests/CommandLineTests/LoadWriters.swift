import Foundation
import OutboundHTTP
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client's `/v1` credentials.
struct ConnectorCredentials: Sendable {
    let username: String
    let password: String

    /// Turns up client `clientId` (one club, `club-001`) with `connector-receiver turnup add --json`,
    /// as an operator would, on the database `environment` and `arguments` select.
    static func turnUp(_ clientId: String, arguments: [String] = [], environment: [String: String]) throws -> ConnectorCredentials {
        let result = try Executable.run(
            ["turnup", "add", clientId, "--name", "Client \(clientId)", "--club", "club-001=Downtown",
             "--connection", "https://receiver.example.com", "--json"] + arguments,
            environment: environment)
        guard result.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
              let credentials = object["credentials"] as? [String: Any],
              let username = credentials["username"] as? String, let password = credentials["password"] as? String
        else { throw TestSetupError(description: "turnup add failed: \(result.output)") }
        return ConnectorCredentials(username: username, password: password)
    }

    var basicAuth: OutboundRequest.BasicAuth { OutboundRequest.BasicAuth(username: username, password: password) }
}

/// One HTTP exchange as the load saw it.
struct Exchange: Sendable {
    /// The HTTP status; -1 when no response came (connection refused or reset, timeout).
    let status: Int
    let started: ContinuousClock.Instant
    let finished: ContinuousClock.Instant
    let retryAfter: String?
    let problemType: String?
    let body: [UInt8]
    let headers: [String: String]

    var seconds: Double { (finished - started).seconds }
    var isSuccess: Bool { (200..<300).contains(status) }

    static func send(_ request: OutboundRequest, client: OutboundHTTPClient = .load) -> Exchange {
        let started = ContinuousClock.now
        do {
            let response = try client.send(request)
            var headers: [String: String] = [:]
            for field in response.headers { headers[field.name.lowercased()] = field.value }
            let type = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["type"] as? String
            return Exchange(status: response.status, started: started, finished: .now, retryAfter: response.header("Retry-After"),
                            problemType: type, body: response.body, headers: headers)
        } catch {
            return Exchange(status: -1, started: started, finished: .now, retryAfter: nil, problemType: "\(error)", body: [], headers: [:])
        }
    }
}

extension OutboundHTTPClient {
    /// Keep-alive connections, as the Connector would use: a killed server cuts them mid-request.
    static let load = OutboundHTTPClient(configuration: Configuration(maxIdleHandles: 64))
}

/// Writer threads saving prospects by external id, as the Connector does: each id is
/// new (`<prefix>-<thread>-<n>`), and a save that was not acknowledged (no response,
/// 5xx) is retried with the same id and body until it is, or the load stops.
/// Every exchange is kept, so the test can tell what was acknowledged, and when.
final class LoadWriters: Sendable {
    struct Save: Sendable {
        let externalId: String
        let exchange: Exchange
    }

    let prefix: String
    let threads: Int
    private let credentials: ConnectorCredentials
    private let port: @Sendable (Int) -> Int
    private let saves = Mutex<[Save]>([])
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)

    /// - Parameter port: the server port thread `n` sends to (read before every request,
    ///   so a restarted server on a new port is found).
    init(prefix: String, threads: Int, credentials: ConnectorCredentials, port: @escaping @Sendable (Int) -> Int) {
        self.prefix = prefix
        self.threads = threads
        self.credentials = credentials
        self.port = port
    }

    /// The body saved for `externalId`: its last name repeats the id, so a stored
    /// record can be checked against what was sent for it.
    static func body(_ externalId: String) -> [UInt8] {
        Array(#"{"clubId": "club-001", "firstName": "Load", "lastName": "\#(externalId)", "email": "\#(externalId)@example.com"}"#.utf8)
    }

    func start(timeLimit: Duration = .seconds(120)) {
        let deadline = ContinuousClock.now + timeLimit
        for thread in 0..<threads {
            Thread.detachNewThread { [self] in
                var sequence = 0
                var externalId = "\(prefix)-\(thread)-0"
                while !stopping.load(ordering: .relaxed), ContinuousClock.now < deadline {
                    let exchange = Exchange.send(OutboundRequest(
                        method: "PUT", url: "http://127.0.0.1:\(port(thread))/v1/prospects/by-external-id/\(externalId)",
                        headers: [("Content-Type", "application/json")], body: Self.body(externalId),
                        basicAuth: credentials.basicAuth, connectTimeout: .seconds(2), totalTimeout: .seconds(60)))
                    saves.withLock { $0.append(Save(externalId: externalId, exchange: exchange)) }
                    if exchange.isSuccess || (400..<500).contains(exchange.status) {
                        sequence += 1
                        externalId = "\(prefix)-\(thread)-\(sequence)"
                    } else {
                        usleep(50_000)  // the server or its database is down: retry the same save shortly
                    }
                }
                ended.signal()
            }
        }
    }

    /// Stops the writers after their current request and waits for them.
    func stop() throws {
        stopping.store(true, ordering: .relaxed)
        for _ in 0..<threads {
            guard ended.wait(timeout: .now() + 90) == .success else {
                throw TestSetupError(description: "a writer did not finish its request within 90 s")
            }
        }
    }

    var all: [Save] { saves.withLock { $0 } }

    /// Waits until `count` saves that started after `since` were acknowledged; returns
    /// when the first of them finished (nil if none yet when the time ran out).
    @discardableResult
    func waitForAcknowledged(_ count: Int, since: ContinuousClock.Instant = .now, timeout: Duration) throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + timeout
        while true {
            let acknowledged = saves.withLock { saves in saves.filter { $0.exchange.isSuccess && $0.exchange.started >= since }.map(\.exchange.finished) }
            if acknowledged.count >= count { return acknowledged.min()! }
            guard ContinuousClock.now < deadline else {
                throw TestSetupError(description: "only \(acknowledged.count) of \(count) saves acknowledged within \(timeout)")
            }
            usleep(20_000)
        }
    }
}

/// A `/readyz` prober: one request every 100 ms, each kept.
final class ReadinessProbe: Sendable {
    private let exchanges = Mutex<[Exchange]>([])
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)

    init(port: @escaping @Sendable () -> Int) {
        Thread.detachNewThread { [self] in
            while !stopping.load(ordering: .relaxed) {
                let exchange = Exchange.send(OutboundRequest(url: "http://127.0.0.1:\(port())/readyz", connectTimeout: .seconds(2), totalTimeout: .seconds(60)))
                exchanges.withLock { $0.append(exchange) }
                usleep(100_000)
            }
            ended.signal()
        }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = ended.wait(timeout: .now() + 90)
    }

    var all: [Exchange] { exchanges.withLock { $0 } }
}

/// What the database holds, read back through the API: every prospect of the client.
struct StoredProspects {
    /// externalId → the records with it (one, unless something is badly wrong).
    var byExternalId: [String: [[String: Any]]] = [:]
    var count = 0

    static func read(port: Int, credentials: ConnectorCredentials) throws -> StoredProspects {
        var stored = StoredProspects()
        var cursor: String?
        repeat {
            var url = "http://127.0.0.1:\(port)/v1/prospects?limit=500"
            if let cursor { url += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor) }
            let exchange = Exchange.send(OutboundRequest(url: url, basicAuth: credentials.basicAuth, totalTimeout: .seconds(30)))
            guard exchange.status == 200,
                  let page = try? JSONSerialization.jsonObject(with: Data(exchange.body)) as? [String: Any],
                  let items = page["items"] as? [[String: Any]]
            else { throw TestSetupError(description: "listing prospects failed: \(exchange.status) \(String(decoding: exchange.body, as: UTF8.self))") }
            for item in items {
                stored.byExternalId[item["externalId"] as? String ?? "", default: []].append(item)
            }
            stored.count += items.count
            cursor = page["nextCursor"] as? String
        } while cursor != nil
        return stored
    }
}

/// The durability check shared by the fault tests: every acknowledged save is stored
/// with what was sent, nothing that was never sent is stored, one record per id.
struct DurabilityCheck {
    let attempted: Set<String>
    let acknowledged: Set<String>
    let lost: [String]
    let neverAttempted: [String]
    let duplicated: [String]
    let wrongContent: [String]
    /// Stored although never acknowledged: allowed (the answer was lost on the way).
    let storedUnacknowledged: Int
    /// Acknowledged `200` (found, not created) after an attempt without an answer: the
    /// earlier attempt had committed, its answer was lost, and the retry changed nothing.
    let committedUnanswered: Int

    init(saves: [LoadWriters.Save], stored: StoredProspects) {
        let attempted = Set(saves.map(\.externalId))
        let acknowledged = Set(saves.filter(\.exchange.isSuccess).map(\.externalId))
        self.attempted = attempted
        self.acknowledged = acknowledged
        lost = acknowledged.filter { stored.byExternalId[$0] == nil }.sorted()
        neverAttempted = stored.byExternalId.keys.filter { !attempted.contains($0) }.sorted()
        duplicated = stored.byExternalId.filter { $0.value.count > 1 }.map(\.key).sorted()
        wrongContent = stored.byExternalId.filter { id, records in records.contains { $0["lastName"] as? String != id } }.map(\.key).sorted()
        storedUnacknowledged = stored.byExternalId.keys.filter { attempted.contains($0) && !acknowledged.contains($0) }.count
        committedUnanswered = Set(saves.filter { $0.exchange.status == 200 }.map(\.externalId)).count
    }

    func expectNothingLost(_ sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(lost.isEmpty, "acknowledged saves missing: \(lost.prefix(20))", sourceLocation: sourceLocation)
        #expect(neverAttempted.isEmpty, "stored but never sent: \(neverAttempted.prefix(20))", sourceLocation: sourceLocation)
        #expect(duplicated.isEmpty, "several records for: \(duplicated.prefix(20))", sourceLocation: sourceLocation)
        #expect(wrongContent.isEmpty, "stored with other content: \(wrongContent.prefix(20))", sourceLocation: sourceLocation)
    }

    var summary: String {
        "ids attempted \(attempted.count), acknowledged \(acknowledged.count), lost \(lost.count), "
            + "committed with the answer lost (the retry found it: 200) \(committedUnanswered), stored unacknowledged \(storedUnacknowledged), "
            + "never-attempted stored \(neverAttempted.count), duplicated \(duplicated.count)"
    }
}

/// `200×512 201×30 503×12 none×3`: statuses with their counts, -1 shown as `none`.
func statusCounts(_ exchanges: [Exchange]) -> String {
    Dictionary(grouping: exchanges, by: \.status).sorted { $0.key < $1.key }
        .map { "\($0.key < 0 ? "none" : String($0.key))×\($0.value.count)" }.joined(separator: " ")
}

/// `database-unavailable×10 outcome-unknown×2`: the problem types of the 503s.
func unavailableTypes(_ exchanges: [Exchange]) -> String {
    Dictionary(grouping: exchanges.filter { $0.status == 503 }, by: { ($0.problemType ?? "none").replacingOccurrences(of: "urn:connector-receiver:problem:", with: "") })
        .sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value.count)" }.joined(separator: " ")
}

/// `12 s×6 5 s×6`: latencies rounded to whole seconds, with their counts.
func latencyCounts(_ exchanges: [Exchange]) -> String {
    Dictionary(grouping: exchanges, by: { Int($0.seconds.rounded()) }).sorted { $0.key > $1.key }
        .map { "\($0.key) s×\($0.value.count)" }.joined(separator: " ")
}

func format(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }

/// The change feed read to the end over HTTP, checked against the records: one
/// event per version of every record, none for a record that is not stored
/// (no change without its event, no event without its change).
struct FeedAgreement {
    var events = 0
    /// Records whose version is not their number of events.
    var disagreeing: [String] = []
    /// Events of records that are not stored.
    var orphans = 0

    static func check(port: Int, credentials: ConnectorCredentials, against stored: StoredProspects) throws -> FeedAgreement {
        var versions: [String: Int] = [:]
        for records in stored.byExternalId.values {
            for record in records {
                if let id = record["id"] as? String, let version = record["version"] as? Int { versions[id] = version }
            }
        }
        let expected = versions.values.reduce(0, +)
        var counts: [String: Int] = [:]
        var agreement = FeedAgreement()
        var cursor: String?
        // The feed may hold back behind a transaction still open on the cluster: wait for it (bounded).
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            var url = "http://127.0.0.1:\(port)/v1/changes?limit=500&types=prospect.created,prospect.updated"
            if let cursor { url += "&after=\(cursor)" }
            let exchange = Exchange.send(OutboundRequest(url: url, basicAuth: credentials.basicAuth, totalTimeout: .seconds(30)))
            guard exchange.status == 200,
                  let page = try? JSONSerialization.jsonObject(with: Data(exchange.body)) as? [String: Any],
                  let items = page["items"] as? [[String: Any]], let next = page["nextCursor"] as? String
            else { throw TestSetupError(description: "reading the change feed failed: \(exchange.status) \(String(decoding: exchange.body, as: UTF8.self))") }
            for item in items {
                guard let id = (item["data"] as? [String: Any])?["id"] as? String else { continue }
                counts[id, default: 0] += 1
                agreement.events += 1
            }
            cursor = next
            if items.count < 500 {
                if agreement.events >= expected || ContinuousClock.now > deadline { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        agreement.disagreeing = versions.filter { counts[$0.key, default: 0] != $0.value }.map { "\($0.key): v\($0.value), \(counts[$0.key, default: 0]) events" }
        agreement.orphans = counts.keys.filter { versions[$0] == nil }.count
        return agreement
    }

    var summary: String { "\(events) events, \(disagreeing.count) records disagreeing, \(orphans) orphan events" }
}
