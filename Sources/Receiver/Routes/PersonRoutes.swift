import Foundation
import HTTPServer
import HTTPTypes
import Metrics
import Postgres

/// The five record operations prospects and members share: create, merge-patch
/// update, save by external id, get, list.
struct PersonRoutes<Record: PersonRecord> {
    let endpoint: ConnectorEndpoint

    typealias Store = PersonStore<Record>

    func register(in router: inout Router) {
        let path = Record.collectionPath

        router.get(path, handler: endpoint.read { call in
            let request = call.request
            let page = try Page.parse(try RequestSupport.queryValue(request, "limit"), try RequestSupport.queryValue(request, "cursor"), keyCount: 2)
            let filter = PersonListFilter(
                clubId: try RequestSupport.queryText(request, "clubId", maxLength: 64),
                email: try RequestSupport.queryText(request, "email", maxLength: 254),
                externalId: try RequestSupport.queryText(request, "externalId", maxLength: 255),
                updatedSince: try RequestSupport.queryTimestamp(request, "updatedSince"),
                includeDisabledClubs: try RequestSupport.queryBool(request, "includeDisabledClubs") ?? false)
            let records = try Store.list(clientId: call.client.clientId, filter: filter, page: page, on: call.connection)
            return .json(page.listBody(records, json: \.json, sortKey: Store.sortKey))
        })

        router.get("\(path)/{id}", handler: endpoint.read { call in
            let record = try Self.require(try call.parameter("id"), call)
            return RequestSupport.record(record.json, version: record.version)
        })

        router.post(path, handler: endpoint.write(Record.resource) { call in
            let input = try Record.Input.parse(try RequestSupport.jsonObject(call.request)).validated()
            return try Idempotency.perform(call) { connection in
                let clientId = call.client.clientId
                try Self.checkReferences(input, clientId: clientId, on: connection)
                if let externalId = input.person.externalId,
                   let existing = try Store.find(externalId: externalId, clientId: clientId, on: connection) {
                    throw Self.externalIdTaken(externalId, existingId: existing.id)
                }
                let record = try Self.catchingExternalIdConflict(input.person.externalId) {
                    try Store.insert(input, clientId: clientId, resolving: Record.resource, on: connection)
                }
                return RequestSupport.record(record.json, version: record.version, status: .created, location: "\(path)/\(record.id.lowercasedString)")
            }
        })

        router.patch("\(path)/{id}", handler: endpoint.write(Record.resource) { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            return try call.connection.transaction { connection in
                let clientId = call.client.clientId
                let current = try Self.require(try call.parameter("id"), call, forUpdate: true)
                try RequestSupport.checkIfMatch(call.request, currentVersion: current.version)
                let merged = JSONMergePatch.apply(.object(patch), to: .object(current.input.json)).objectValue ?? [:]
                let input = try Record.Input.parse(merged).validated()
                guard input != current.input else { return RequestSupport.record(current.json, version: current.version) }
                try Self.checkReferences(input, clientId: clientId, on: connection)
                if let externalId = input.person.externalId, externalId != current.input.person.externalId,
                   let existing = try Store.find(externalId: externalId, clientId: clientId, on: connection) {
                    throw Self.externalIdTaken(externalId, existingId: existing.id)
                }
                let updated = try Self.catchingExternalIdConflict(input.person.externalId) {
                    try Store.update(current, to: input, clientId: clientId, resolving: Record.resource, on: connection)
                }
                return RequestSupport.record(updated.json, version: updated.version)
            }
        })

        let saveAlone = endpoint.write(Record.resource) { call in try Self.save(call) }
        if endpoint.saveLanes > 0 {
            // On the I/O thread: reading the body and handing the save to a lane never
            // blocks, and the lane answers; only a save that runs alone takes a worker.
            router.put("\(path)/by-external-id/{externalId}", options: [.inline, .admitted], handler: batched(saveAlone))
        } else {
            router.put("\(path)/by-external-id/{externalId}", handler: saveAlone)
        }
    }

    /// Saves through a ``Batcher``: saves that arrive together share a
    /// transaction (``SaveBatch``). Whatever a batch does not do runs `alone`.
    ///
    /// The handler runs on the connection's I/O thread and never blocks: it reads
    /// the save, queues it and defers its response, which the lane completes after
    /// the batch's COMMIT; so a save is handed from thread to thread once, not four
    /// times (I/O thread → worker → lane → worker → I/O thread). A save that runs
    /// alone goes to a worker, as every request did before.
    ///
    /// Counted for `/metrics`: `receiver_save_batches_total` and
    /// `receiver_saves_total{path="batch"|"alone"|"shed"}`, each save once; saves
    /// per batch show whether `--save-lanes` suits the load.
    private func batched(_ alone: @escaping RequestHandler) -> RequestHandler {
        let database = endpoint.database
        let rateLimiter = endpoint.rateLimiter
        let logger = endpoint.logger
        let resource = ("resource", Record.resource.rawValue)
        let batches = Counter(label: "receiver_save_batches_total", dimensions: [resource])
        let savedInBatch = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "batch")])
        let savedAlone = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "alone")])
        // Saves answered 503 overloaded: too many already waiting for a lane, or waited too long.
        let shed = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "shed")])
        let overloaded = Problem.overloaded().type
        let settings = Batcher<SaveJob<Record>, SaveOutcome>.Settings(
            lanes: endpoint.saveLanes, maxQueued: endpoint.saveQueue.maxWaiting, maxWait: endpoint.saveQueue.maxWait,
            gatherTime: endpoint.saveBatchWait)
        let batcher = Batcher<SaveJob<Record>, SaveOutcome>(
            settings: settings, key: { $0.key }, timedOut: .failure(Problem.overloaded())
        ) { jobs in
            let outcomes = SaveBatch.run(jobs, database: database, rateLimiter: rateLimiter, logger: logger)
            batches.increment()
            savedInBatch.increment(by: outcomes.count { if case .alone = $0 { false } else { true } })
            return outcomes
        }
        return { request, context in
            // Reading a body takes about 10 ns a byte: a Connector's save (a kilobyte
            // or two) is read here, but a big one would hold up every connection of
            // this I/O thread, so it goes to a worker and saves alone.
            let job = request.body.count > Self.largestBodyReadInline
                ? nil : context.parameters["externalId"].flatMap { SaveJob<Record>(request: request, externalId: $0) }
            guard let deferred = context.deferResponse() else {
                // A context not built by the server (a unit test): the same, waiting here.
                guard let job else {
                    savedAlone.increment()
                    return try alone(request, &context)
                }
                switch batcher.submit(job) {
                case .response(let response): return response
                case .failure(let problem): throw problem
                case .alone:
                    savedAlone.increment()
                    return try alone(request, &context)
                }
            }
            let original = context
            guard let job else {
                savedAlone.increment()
                deferred.completeOnWorker(alone, request: request, context: original)
                return Self.deferred
            }
            let queued = batcher.submit(job) { outcome in
                switch outcome {
                case .response(let response): deferred.complete(response)
                case .failure(let problem):
                    if problem.type == overloaded { shed.increment() }
                    deferred.complete(problem.makeResponse())
                case .alone:
                    savedAlone.increment()
                    deferred.completeOnWorker(alone, request: request, context: original)
                }
            }
            if !queued {
                shed.increment()
                deferred.complete(Problem.overloaded().makeResponse())
            }
            return Self.deferred
        }
    }

    /// The largest save body read on the I/O thread.
    static var largestBodyReadInline: Int { 16 << 10 }

    /// What a handler that deferred its response returns: never sent.
    private static var deferred: Response { Response(status: .accepted) }

    /// `PUT …/by-external-id/{externalId}`: an atomic upsert. The path's external
    /// id wins over one in the body. Concurrent saves of one new external id:
    /// one inserts (201); the others hit the unique constraint, start over, find
    /// the record and update it (200, same version if nothing changed).
    static func save(_ call: ConnectorCall) throws -> Response {
        var body = try RequestSupport.jsonObject(call.request)
        body["externalId"] = .string(try call.parameter("externalId"))
        let input = try Record.Input.parse(body).validated()
        // Read back from the validated input, so lookup and storage use the same (trimmed) id.
        guard let externalId = input.person.externalId else {
            throw Problem.invalidField("externalId", "must not be blank")
        }
        let clientId = call.client.clientId

        for attempt in 1...3 {
            do {
                return try call.connection.transaction { connection in
                    if let current = try Store.find(externalId: externalId, clientId: clientId, on: connection, forUpdate: true) {
                        try RequestSupport.checkIfMatch(call.request, currentVersion: current.version)
                        return try update(current, to: input, call: call, on: connection)
                    }
                    try RequestSupport.checkIfMatch(call.request, currentVersion: nil)
                    if call.client.options.smartMatch,
                       let match = try Store.smartMatch(input.person, clientId: clientId, on: connection) {
                        return try update(match, to: input, call: call, on: connection)
                    }
                    try checkReferences(input, clientId: clientId, on: connection)
                    let record = try Store.insert(input, clientId: clientId, resolving: Record.resource, on: connection)
                    return RequestSupport.record(record.json, version: record.version, status: .created, location: "\(Record.collectionPath)/\(record.id.lowercasedString)")
                }
            } catch let error as PostgresError where isExternalIdConflict(error) {
                // A concurrent save created it first: the next attempt finds it.
                if attempt == 3 { throw Problem.conflict("The record with externalId \(externalId) is being written concurrently; retry.") }
            }
        }
        preconditionFailure("the loop returns or throws")
    }

    private static func update(_ current: Record, to input: Record.Input, call: ConnectorCall, on connection: PostgresConnection) throws -> Response {
        guard input != current.input else {
            // Nothing to write, but the save succeeded: its open sync errors are resolved.
            try resolveSyncErrors(current, call: call, on: connection)
            return RequestSupport.record(current.json, version: current.version)
        }
        try checkReferences(input, clientId: call.client.clientId, on: connection)
        let updated = try Store.update(current, to: input, clientId: call.client.clientId, resolving: Record.resource, on: connection)
        return RequestSupport.record(updated.json, version: updated.version)
    }

    static func checkReferences(_ input: Record.Input, clientId: String, on connection: PostgresConnection) throws {
        try Store.checkClub(input.person.clubId, clientId: clientId, on: connection)
        try input.checkReferences(clientId: clientId, on: connection)
    }

    static func require(_ idText: String, _ call: ConnectorCall, forUpdate: Bool = false) throws -> Record {
        guard let id = RecordID.parse(idText),
              let record = try Store.find(id, clientId: call.client.clientId, on: call.connection, forUpdate: forUpdate)
        else { throw Problem.notFound("No \(Record.noun) with id \(idText).") }
        return record
    }

    static func externalIdTaken(_ externalId: String, existingId: UUID?) -> Problem {
        var extensions = JSONObject()
        if let existingId { extensions["existingId"] = .string(existingId.lowercasedString) }
        return Problem.conflict("A \(Record.noun) with externalId \(externalId) already exists.", extensions: extensions)
    }

    static func isExternalIdConflict(_ error: PostgresError) -> Bool {
        error.code == .uniqueViolation && (error.constraint?.hasSuffix("external_id_key") ?? false)
    }

    /// A concurrent write took the external id between the check and the write.
    static func catchingExternalIdConflict<T>(_ externalId: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where isExternalIdConflict(error) {
            throw externalIdTaken(externalId ?? "", existingId: nil)
        }
    }

    static func resolveSyncErrors(_ record: Record, call: ConnectorCall, on connection: PostgresConnection) throws {
        try SyncErrors.resolve(resource: Record.resource, externalId: record.input.person.externalId, recordId: record.id,
                               clientId: call.client.clientId, on: connection)
    }
}
