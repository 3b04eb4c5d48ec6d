import Foundation
import Logging
import Postgres

/// Saves prospects or members by external id: the one implementation of
/// `PUT …/by-external-id/{externalId}`, for a batch of saves that arrived
/// together (`Batcher`) and for a save alone, which is a batch of one.
///
/// A batch is one transaction with one statement per step for all of its saves:
/// look up credentials, clubs, references and records, smart matching included
/// (`lookUp`); then insert and update (`PersonStore.insertAll`, `updateAll`). With
/// libpq's pipeline mode it takes two round trips: `BEGIN` and the lookup, then
/// the writes and `COMMIT`. Each save gets the outcome it would have got alone:
/// its record, or the exact error (wrong credential, suspended client,
/// `If-Match`, an unknown or switched-off club, an unknown lead source, the
/// client's rate), decided from the lookup; and every record waits for the
/// COMMIT that makes it durable.
///
/// A database error other than an outage takes the whole batch down (another
/// instance inserted the same new external id, a deadlock): its saves are then
/// run again one by one, each up to three times.
package enum SaveBatch<Record: PersonRecord> {
    package typealias Store = PersonStore<Record>

    /// The outcome of each save, in order, on a connection of `database`; when
    /// none can be had, each save's outcome is `databaseUnavailable`.
    package static func run(
        _ saves: [PersonSave<Record>], rateLimiter: ClientRateLimiter?, database: PostgresConnectionPool,
        logger: Logger = Logger(label: "connector-receiver")
    ) -> [SaveOutcome<Record>] {
        do {
            return try database.withConnection { run(saves, rateLimiter: rateLimiter, on: $0, logger: logger) }
        } catch {
            let unavailable = ReceiverError(classifying: error) ?? .databaseUnavailable(detail: nil)
            return saves.map { _ in .failed(unavailable) }
        }
    }

    /// The outcome of each save, in order, on `connection`; a database outage is
    /// each save's `databaseUnavailable`.
    package static func run(
        _ saves: [PersonSave<Record>], rateLimiter: ClientRateLimiter?, on connection: PostgresConnection,
        logger: Logger = Logger(label: "connector-receiver")
    ) -> [SaveOutcome<Record>] {
        switch attempt(saves, rateLimiter: rateLimiter, on: connection) {
        case .done(let outcomes):
            return outcomes
        case .failed(let error) where saves.count > 1:
            // Expected now and then; often, it would mean every save pays for two attempts.
            logger.notice("a batch of saves failed; its saves run one by one", metadata: [
                "saves": "\(saves.count)", "error": "\(error.code?.description ?? error.kind.description): \(error.message)",
            ])
            return saves.map { runAlone($0, rateLimiter: rateLimiter, on: connection) }
        case .failed:
            return [runAlone(saves[0], rateLimiter: rateLimiter, on: connection)]
        }
    }

    /// One save in its own transaction. Concurrent saves of one new external id
    /// (on other instances): one inserts; the others hit the unique constraint,
    /// start over, find the record and update it.
    package static func runAlone(_ save: PersonSave<Record>, rateLimiter: ClientRateLimiter?, on connection: PostgresConnection) -> SaveOutcome<Record> {
        for _ in 1...3 {
            switch attempt([save], rateLimiter: rateLimiter, on: connection) {
            case .done(let outcomes): return outcomes[0]
            case .failed(let error) where Store.isExternalIdConflict(error): continue
            case .failed(let error):
                return .failed(ReceiverError(error) ?? .databaseUnavailable(
                    detail: "The save failed in the database; nothing was written. Retry the request."))
            }
        }
        return .failed(.conflict("The record with externalId \(save.externalId) is being written concurrently; retry."))
    }

    private enum Attempt {
        case done([SaveOutcome<Record>])
        /// The transaction failed (and was rolled back): nothing was written.
        case failed(PostgresError)
    }

    private static func attempt(_ saves: [PersonSave<Record>], rateLimiter: ClientRateLimiter?, on connection: PostgresConnection) -> Attempt {
        var decided: Plan?
        do {
            do {
                let plan = try decide(saves, rateLimiter: rateLimiter, on: connection)
                decided = plan
                return .done(try write(plan, saves, on: connection))
            } catch {
                connection.rollback()
                throw error
            }
        } catch let error as PostgresError {
            if error.kind == .commitOutcomeUnknown, let decided {
                // Only COMMIT reports this: the saves it was to make durable may or may not be.
                return .done(decided.outcomes.indices.map { decided.writes($0) ? .failed(.outcomeUnknown) : decided.outcomes[$0] })
            }
            if let unavailable = ReceiverError(error) { return .done(saves.map { _ in .failed(unavailable) }) }
            return .failed(error)
        } catch {
            return .failed(PostgresError(kind: .client, message: "\(error)"))
        }
    }

    private enum Decision {
        case insert
        case update(Record)
        case unchanged(Record)
    }

    /// What the batch will do, decided inside its open transaction.
    private struct Plan {
        /// Each save's outcome unless it is written: its error.
        var outcomes: [SaveOutcome<Record>]
        var inserts: [(index: Int, write: Store.Write)] = []
        var updates: [(index: Int, write: Store.Write)] = []
        var unchanged: [(index: Int, current: Record)] = []
        /// Whether a client of the batch has open sync errors to resolve; most
        /// batches have none, and their writes are simpler statements.
        var resolvesSyncErrors = false

        /// Whether the save at `index` is one the COMMIT answers.
        func writes(_ index: Int) -> Bool {
            inserts.contains { $0.index == index } || updates.contains { $0.index == index } || unchanged.contains { $0.index == index }
        }
    }

    /// Opens the transaction with the lookup and decides every save.
    private static func decide(_ saves: [PersonSave<Record>], rateLimiter: ClientRateLimiter?, on connection: PostgresConnection) throws -> Plan {
        let rows = try connection.begin(with: [Store.genericPlans, Store.lookUp(saves)])
        let (lookups, clock) = try Store.lookups(in: rows[1], count: saves.count)
        var plan = Plan(outcomes: saves.map { _ in .failed(ClientCredential.rejected) })
        plan.resolvesSyncErrors = lookups.contains { $0.syncErrorsOpen }
        var adopted = Set<UUID>()
        for (index, save) in saves.enumerated() {
            do {
                let decision = try decide(save, lookups[index], adopted: &adopted)
                let clientId = save.credential.clientId
                // Only saves that succeed spend the client's tokens.
                if let rateLimiter, case .limited(let seconds) = rateLimiter.admit(clientId) {
                    throw ReceiverError.rateLimited(clientId: clientId, settings: rateLimiter.settings, retryAfterSeconds: seconds)
                }
                let staffOwnerId = lookups[index].inputStaffOwnerId
                switch decision {
                case .insert:
                    plan.inserts.append((index, try Store.Write(
                        clientId: clientId, id: RecordID.make(), input: save.input, current: nil, at: clock, staffOwnerId: staffOwnerId)))
                case .update(let current):
                    plan.updates.append((index, try Store.Write(
                        clientId: clientId, id: current.id, input: save.input, current: current, at: clock, staffOwnerId: staffOwnerId)))
                case .unchanged(let current):
                    plan.unchanged.append((index, current))
                }
            } catch let error as ReceiverError {
                plan.outcomes[index] = .failed(error)
            }
        }
        return plan
    }

    /// The rules of one save, in the order a caller meets them: the credential,
    /// `If-Match`, then (for a write that changes something) the club and the references.
    private static func decide(_ save: PersonSave<Record>, _ lookup: Store.Lookup, adopted: inout Set<UUID>) throws -> Decision {
        let client = try ClientAuthenticator.decide(
            save.credential, passwordHash: lookup.passwordHash, status: lookup.clientStatus, options: lookup.clientOptions)
        guard lookup.credentialRole == CredentialRole.connector.rawValue else { throw ReceiverError.readOnlyCredential }
        try save.condition.check(currentVersion: lookup.current?.version)
        let decision: Decision
        if let current = lookup.current {
            if save.input == current.input { return .unchanged(current) }
            decision = .update(current)
        } else if client.options.smartMatch, let match = lookup.match, adopted.insert(match.id).inserted {
            // A second save of the batch matching the same record creates one, as it would after this one.
            decision = .update(match)
        } else {
            decision = .insert
        }
        try Store.checkClub(enabled: lookup.clubEnabled)
        if try save.input.leadSourceReference() != nil, !lookup.referencesFound { throw ProspectInput.unknownLeadSource }
        return decision
    }

    /// Writes what `plan` decided and commits, in one round trip; then the outcomes.
    private static func write(_ plan: Plan, _ saves: [PersonSave<Record>], on connection: PostgresConnection) throws -> [SaveOutcome<Record>] {
        let insert = try Store.insertAll(plan.inserts.map { $0.write }, resolving: plan.resolvesSyncErrors)
        let update = try Store.updateAll(plan.updates.map { $0.write }, resolving: plan.resolvesSyncErrors)
        let resolve = plan.resolvesSyncErrors ? Store.resolveSyncErrors(of: plan.unchanged.map { (saves[$0.index].credential.clientId, $0.current) }) : nil
        var results = try connection.commit(after: [insert, update, resolve].compactMap { $0 })[...]

        var outcomes = plan.outcomes
        if insert != nil {
            try Store.check(results.removeFirst(), wrote: plan.inserts.map { $0.write })
            for (index, write) in plan.inserts { outcomes[index] = .saved(write.record, created: true, json: write.json) }
        }
        if update != nil {
            try Store.check(results.removeFirst(), wrote: plan.updates.map { $0.write })
            for (index, write) in plan.updates { outcomes[index] = .saved(write.record, created: false, json: write.json) }
        }
        for (index, current) in plan.unchanged {
            outcomes[index] = .saved(current, created: false, json: JSONWriter.serialize(.object(current.json)))
        }
        return outcomes
    }
}
