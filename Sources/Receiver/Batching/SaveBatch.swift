import Foundation
import HTTPServer
import Logging
import Postgres

/// A save (`PUT …/by-external-id/{externalId}`) as a batch takes it: the
/// credentials and the validated input, read without the database.
struct SaveJob<Record: PersonRecord>: Sendable {
    let request: Request
    let username: String
    let password: String
    /// The client the username names; not yet authenticated.
    let clientId: String
    let externalId: String
    let input: Record.Input

    /// nil when the request needs the one-request path, which answers it with
    /// the exact problem: credentials missing or malformed, a body that does not
    /// validate.
    init?(request: Request, externalId pathExternalId: String) {
        guard let (username, password) = ClientAuthenticator.basicCredentials(request), username.utf8.count <= 200,
              let clientId = ClientAuthenticator.clientId(fromUsername: username),
              var body = try? RequestSupport.jsonObject(request)
        else { return nil }
        body["externalId"] = .string(pathExternalId)
        guard let input = try? Record.Input.parse(body).validated(), let externalId = input.person.externalId else { return nil }
        (self.request, self.username, self.password, self.clientId, self.externalId, self.input) =
            (request, username, password, clientId, externalId, input)
    }

    /// Two saves of one record never share a batch, nor run in two at once.
    var key: String { "\(clientId)\n\(externalId)" }
}

/// What a batch made of one save.
enum SaveOutcome: Sendable {
    /// Written and committed (or found unchanged): the answer.
    case response(Response)
    /// Answered without writing (429, 503).
    case failure(Problem)
    /// Not done here: the save runs alone, the one-request way, which produces
    /// its problem and sync error (wrong password, If-Match, a switched-off club,
    /// a reference to check) or retries after a conflict with another instance.
    case alone
}

/// Runs a batch of saves in one transaction, with one statement per step for all
/// of them: look up credentials, clubs and records; smart-match; insert; update.
/// Each save gets the answer it would have got alone; every answer waits for the
/// COMMIT that makes it durable.
///
/// The transaction takes two round trips, with libpq's pipeline mode: `BEGIN`,
/// the lookup and smart matching in one, the writes and `COMMIT` in the other.
///
/// Only saves that succeed are done here. Anything that would be an error, and
/// any save a failed statement takes down with the batch (a unique violation
/// because another instance inserted the same external id, a deadlock), is
/// handed back to run alone, after this batch, on the one-request path: one
/// implementation of every error, and the batch is only ever an optimization.
enum SaveBatch<Record: PersonRecord> {
    typealias Store = PersonStore<Record>

    static func run(
        _ jobs: [SaveJob<Record>], database: PostgresConnectionPool, rateLimiter: ClientRateLimiter?,
        logger: Logger = Logger(label: "connector-receiver")
    ) -> [SaveOutcome] {
        var decided: Plan?
        do {
            return try database.withConnection { connection in
                do {
                    let plan = try decide(jobs, rateLimiter: rateLimiter, on: connection)
                    decided = plan
                    return try write(plan, jobs, on: connection)
                } catch {
                    connection.rollback()
                    throw error
                }
            }
        } catch let error as PostgresError {
            if error.kind == .commitOutcomeUnknown {
                // Only COMMIT reports this, so every save has its decided outcome; if
                // not, none of them may be taken for done.
                guard let decided else { return jobs.map { _ in .failure(Problem.outcomeUnknown()) } }
                return decided.outcomes.enumerated().map { index, outcome in
                    decided.writes(index) ? .failure(Problem.outcomeUnknown()) : outcome
                }
            }
            if let problem = Problem.from(error) { return jobs.map { _ in .failure(problem) } }
            // Expected now and then (another instance took an external id first, a
            // deadlock); often, it would mean every save pays for two attempts.
            logger.notice("a batch of saves failed; its saves run alone", metadata: [
                "saves": "\(jobs.count)", "error": "\(error.code?.description ?? error.kind.description): \(error.message)",
            ])
            return jobs.map { _ in .alone }
        } catch {
            logger.error("a batch of saves failed; its saves run alone", metadata: ["saves": "\(jobs.count)", "error": "\(error)"])
            return jobs.map { _ in .alone }
        }
    }

    private enum Write {
        case insert
        case update(Record)
        case unchanged(Record)
    }

    /// What the batch will do, decided inside its open transaction.
    private struct Plan {
        /// Each save's outcome unless it is written: `.alone`, or a failure (429).
        var outcomes: [SaveOutcome]
        /// The transaction's `now()`, which its writes set.
        var clock: TransactionClock
        var inserts: [Int] = []
        var updates: [(index: Int, current: Record)] = []
        var unchanged: [(index: Int, current: Record)] = []
        /// Whether a client of the batch has open sync errors to resolve; most
        /// batches have none, and their writes are simpler statements.
        var resolvesSyncErrors = false

        /// Whether the save at `index` is one the COMMIT answers.
        func writes(_ index: Int) -> Bool {
            inserts.contains(index) || updates.contains { $0.index == index } || unchanged.contains { $0.index == index }
        }
    }

    /// Opens the transaction with the lookup and decides every save that can
    /// succeed; the rest stay `.alone`.
    private static func decide(_ jobs: [SaveJob<Record>], rateLimiter: ClientRateLimiter?, on connection: PostgresConnection) throws -> Plan {
        let rows = try connection.begin(with: [
            BatchColumns.genericPlans,
            Store.lookUp(jobs.map { ($0.clientId, $0.username, $0.externalId, $0.input.person.clubId, MatchKey($0.input.person)) }),
        ])
        let (lookups, clock) = try Store.lookups(in: rows[1], count: jobs.count)
        var plan = Plan(outcomes: [SaveOutcome](repeating: .alone, count: jobs.count), clock: clock)
        plan.resolvesSyncErrors = lookups.contains { $0.syncErrorsOpen }

        var writes = [Write?](repeating: nil, count: jobs.count)
        var adopted = Set<UUID>()
        for (index, job) in jobs.enumerated() {
            let lookup = lookups[index]
            guard let options = authenticatedOptions(job, lookup) else { continue }
            guard (try? RequestSupport.checkIfMatch(job.request, currentVersion: lookup.current?.version)) != nil else { continue }
            if let current = lookup.current {
                writes[index] = job.input == current.input ? .unchanged(current) : .update(current)
            } else if options.smartMatch, let match = lookup.match {
                // Alone, after this batch, the second save sees the record taken and creates one.
                guard adopted.insert(match.id).inserted else { continue }
                writes[index] = .update(match)
            } else {
                writes[index] = .insert
            }
        }

        for (index, write) in writes.enumerated() {
            guard let write else { continue }
            if case .unchanged = write {} else {
                // The club must accept writes, and references need their own check: else alone.
                guard lookups[index].clubEnabled == true, !jobs[index].input.hasReferences else { continue }
            }
            // Only saves done here spend the client's tokens; those run alone spend theirs there.
            if let rateLimiter, case .limited(let seconds) = rateLimiter.admit(jobs[index].clientId) {
                plan.outcomes[index] = .failure(Problem.rateLimited(clientId: jobs[index].clientId, settings: rateLimiter.settings, retryAfterSeconds: seconds))
                continue
            }
            switch write {
            case .insert: plan.inserts.append(index)
            case .update(let current): plan.updates.append((index, current))
            case .unchanged(let current): plan.unchanged.append((index, current))
            }
        }
        return plan
    }

    /// Writes what `plan` decided and commits, in one round trip; then the answers.
    private static func write(_ plan: Plan, _ jobs: [SaveJob<Record>], on connection: PostgresConnection) throws -> [SaveOutcome] {
        let insert = try Store.insertAll(plan.inserts.map { (jobs[$0].clientId, jobs[$0].input) }, resolving: plan.resolvesSyncErrors)
        let update = try Store.updateAll(
            plan.updates.map { (jobs[$0.index].clientId, $0.current, jobs[$0.index].input) }, resolving: plan.resolvesSyncErrors)
        let resolve = plan.resolvesSyncErrors ? Store.resolveSyncErrors(of: plan.unchanged.map { (jobs[$0.index].clientId, $0.current) }) : nil
        var results = try connection.commit(after: [insert?.query, update?.query, resolve].compactMap { $0 })[...]

        var outcomes = plan.outcomes
        if let insert {
            let writes = zip(plan.inserts, insert.ids).map { index, id in (id: id, input: jobs[index].input, current: Record?.none) }
            for (index, record) in zip(plan.inserts, try Store.written(results.removeFirst(), writes, at: plan.clock)) {
                outcomes[index] = .response(RequestSupport.record(
                    record.json, version: record.version, status: .created, location: "\(Record.collectionPath)/\(record.id.lowercasedString)"))
            }
        }
        if let update {
            let writes = plan.updates.map { (id: $0.current.id, input: jobs[$0.index].input, current: Optional($0.current)) }
            for ((index, _), record) in zip(plan.updates, try Store.written(results.removeFirst(), writes, at: plan.clock)) {
                outcomes[index] = .response(RequestSupport.record(record.json, version: record.version))
            }
        }
        for (index, current) in plan.unchanged {
            outcomes[index] = .response(RequestSupport.record(current.json, version: current.version))
        }
        return outcomes
    }

    /// The client's options when the password is right and the client active;
    /// nil otherwise (the save runs alone and gets its 401 or 403).
    private static func authenticatedOptions(_ job: SaveJob<Record>, _ lookup: Store.Lookup) -> ClientOptions? {
        guard let hash = lookup.passwordHash, lookup.clientStatus == "active", let stored = lookup.clientOptions,
              CredentialSecrets.verify(password: job.password, against: hash)
        else { return nil }
        return try? ClientOptions(stored: stored)
    }
}
