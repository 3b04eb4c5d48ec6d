import Foundation
import HTTPServer
import HTTPTypes
import Logging
import Metrics
import ReceiverCore

/// The five record operations prospects and members share: create, merge-patch
/// update, save by external id, get, list. The rules are the core's
/// (`PersonWrites`, `SaveBatch`); here, reading requests and writing responses.
struct PersonRoutes<Record: PersonRecord> {
    let endpoint: ConnectorEndpoint
    /// "/v1/prospects" / "/v1/members".
    let collectionPath: String

    func register(in router: inout Router) {
        let path = collectionPath

        router.get(path, handler: endpoint.read { call in
            let request = call.request
            let page = try RequestSupport.page(request, keyCount: 2)
            let filter = PersonListFilter(
                clubId: try RequestSupport.queryText(request, "clubId", maxLength: 64),
                email: try RequestSupport.queryText(request, "email", maxLength: 254),
                externalId: try RequestSupport.queryText(request, "externalId", maxLength: 255),
                updatedSince: try RequestSupport.queryTimestamp(request, "updatedSince"),
                includeDisabledClubs: try RequestSupport.queryBool(request, "includeDisabledClubs") ?? false)
            let records = try PersonWrites<Record>.list(clientId: call.clientId, filter: filter, page: page, on: call.connection)
            return .json(page.listBody(records, json: \.json, sortKey: PersonWrites<Record>.sortKey))
        })

        let getAlone = endpoint.read { call in
            let record = try PersonWrites<Record>.require(try call.parameter("id"), clientId: call.clientId, on: call.connection)
            return RequestSupport.record(record.json, version: record.version)
        }
        if endpoint.saveLanes > 0 {
            // On the I/O thread: the read is handed to a lane, which answers.
            router.get("\(path)/{id}", options: [.inline, .admitted], handler: batchedGet())
        } else {
            router.get("\(path)/{id}", handler: getAlone)
        }

        router.post(path, handler: endpoint.write(Record.resource) { call in
            let input = try Record.Input.parse(try RequestSupport.jsonObject(call.request)).validated()
            return try IdempotentCall.perform(call) { connection in
                let record = try PersonWrites<Record>.create(input, clientId: call.clientId, on: connection)
                return created(record)
            }
        })

        router.patch("\(path)/{id}", handler: endpoint.write(Record.resource) { call in
            let patch = try RequestSupport.jsonObject(call.request, allowMergePatch: true)
            let record = try call.connection.transaction { connection in
                try PersonWrites<Record>.patch(
                    try call.parameter("id"), with: patch, condition: RequestSupport.versionCondition(call.request),
                    clientId: call.clientId, on: connection)
            }
            return RequestSupport.record(record.json, version: record.version)
        })

        let saveAlone = endpoint.write(Record.resource) { call in try answer(saveOne(call)) }
        if endpoint.saveLanes > 0 {
            // On the I/O thread: reading the body and handing the save to a lane never
            // blocks, and the lane answers; only a save that runs alone takes a worker.
            router.put("\(path)/by-external-id/{externalId}", options: [.inline, .admitted], handler: batched(saveAlone))
        } else {
            router.put("\(path)/by-external-id/{externalId}", handler: saveAlone)
        }
    }

    /// `201 Created` with the record and its `Location`.
    private func created(_ record: Record) -> Response {
        created(record, json: JSONWriter.serialize(.object(record.json)))
    }

    /// The same, with the record's JSON already serialized.
    private func created(_ record: Record, json: [UInt8]) -> Response {
        RequestSupport.record(serialized: json, version: record.version, status: .created, location: "\(collectionPath)/\(record.id.lowercasedString)")
    }

    /// The response to a save's outcome; a failed save throws its problem.
    private func answer(_ outcome: SaveOutcome<Record>) throws -> Response {
        var response: Response
        switch outcome {
        case .saved(let record, created: true, let json): response = created(record, json: json)
        case .saved(let record, created: false, let json): response = RequestSupport.record(serialized: json, version: record.version)
        case .failed(let error): throw Problem(error)
        }
        response.headerFields[.cacheControl] = "no-store"
        return response
    }

    /// A save as the core takes it, read from the request: the path's external id
    /// wins over one in the body.
    static func save(_ request: Request, externalId: String) throws -> PersonSave<Record> {
        let credential = try ConnectorEndpoint.credential(request)
        var body = try RequestSupport.jsonObject(request)
        body["externalId"] = .string(externalId)
        let input = try Record.Input.parse(body).validated()
        guard let save = PersonSave<Record>(credential: credential, input: input, condition: RequestSupport.versionCondition(request)) else {
            throw Problem.invalidField("externalId", "must not be blank")
        }
        return save
    }

    /// `PUT …/by-external-id/{externalId}` alone, in its own transaction on the
    /// call's connection: the same `SaveBatch`, with a batch of one. (The call's
    /// client was authenticated and admitted by the endpoint already.)
    private func saveOne(_ call: ConnectorCall) throws -> SaveOutcome<Record> {
        let save = try Self.save(call.request, externalId: try call.parameter("externalId"))
        return SaveBatch<Record>.run([save], rateLimiter: nil, on: call.connection, logger: endpoint.logger)[0]
    }

    /// Saves through a ``Batcher``: saves that arrive together share a
    /// transaction (``SaveBatch``).
    ///
    /// The handler runs on the connection's I/O thread and never blocks: it reads
    /// the save, queues it and defers its response, which the lane completes after
    /// the batch's COMMIT; so a save is handed from thread to thread once, not four
    /// times (I/O thread → worker → lane → worker → I/O thread). A save that cannot
    /// be read (no credential, a body that does not validate, a big body) runs
    /// alone on a worker, which answers with its problem; so does a save the batch
    /// refused with a problem the admins keep as a sync error, to record it.
    ///
    /// Counted for `/metrics`: `receiver_save_batches_total` and
    /// `receiver_saves_total{path="batch"|"alone"|"shed"}`, each save once; saves
    /// per batch show whether `--save-lanes` suits the load.
    private func batched(_ alone: @escaping RequestHandler) -> RequestHandler {
        let database = endpoint.database
        let rateLimiter = endpoint.rateLimiter
        let logger = endpoint.logger
        let changeWaiters = endpoint.changeWaiters
        let callRecorder = endpoint.callRecorder
        let resource = ("resource", Record.resource.rawValue)
        let batches = Counter(label: "receiver_save_batches_total", dimensions: [resource])
        let savedInBatch = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "batch")])
        let savedAlone = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "alone")])
        // Saves answered 503 overloaded: too many already waiting for a lane, or waited too long.
        let shed = Counter(label: "receiver_saves_total", dimensions: [resource, ("path", "shed")])
        let settings = Batcher<PersonSave<Record>, SaveOutcome<Record>>.Settings(
            lanes: endpoint.saveLanes, maxQueued: endpoint.saveQueue.maxWaiting, maxWait: endpoint.saveQueue.maxWait,
            gatherTime: endpoint.saveBatchWait)
        let batcher = Batcher<PersonSave<Record>, SaveOutcome<Record>>(
            settings: settings, key: { $0.key }, timedOut: .failed(.overloaded(retryAfterSeconds: 2))
        ) { saves in
            let outcomes = SaveBatch<Record>.run(saves, rateLimiter: rateLimiter, database: database, logger: logger)
            batches.increment()
            let saved = outcomes.count { $0.error == nil }
            savedInBatch.increment(by: saved)
            if saved > 0 { changeWaiters?.changed() }
            return outcomes
        }
        let answer = self.answer
        return { request, context in
            // Reading a body takes about 10 ns a byte: a Connector's save (a kilobyte
            // or two) is read here, but a big one would hold up every connection of
            // this I/O thread, so it goes to a worker and saves alone.
            let save = request.body.count > Self.largestBodyReadInline
                ? nil : context.parameters["externalId"].flatMap { try? Self.save(request, externalId: $0) }
            guard let deferred = context.deferResponse() else {
                // A context not built by the server (a unit test): the same, waiting here.
                guard let save else {
                    savedAlone.increment()
                    return try alone(request, &context)
                }
                let outcome = batcher.submit(save)
                if let error = outcome.error, Self.isKeptAsSyncError(error) { return try alone(request, &context) }
                return try answer(outcome)
            }
            let original = context
            guard let save else {
                savedAlone.increment()
                deferred.completeOnWorker(alone, request: request, context: original)
                return Self.deferred
            }
            let queued = batcher.submit(save) { outcome in
                if let error = outcome.error, Self.isKeptAsSyncError(error) {
                    // Alone, on a worker: the same refusal, recorded as a sync error.
                    savedAlone.increment()
                    deferred.completeOnWorker(alone, request: request, context: original)
                    return
                }
                if case .failed(.overloaded) = outcome { shed.increment() }
                let response = (try? answer(outcome)) ?? Self.problemResponse(outcome)
                callRecorder?.record(username: save.credential.username, status: response.status.code)
                deferred.complete(response)
            }
            if !queued {
                shed.increment()
                callRecorder?.record(username: save.credential.username, status: 503)
                deferred.complete(Problem.overloaded().makeResponse())
            }
            return Self.deferred
        }
    }

    /// `GET …/{id}` through a ``Batcher`` of reads: the reads that arrive together
    /// share one statement (``PersonReads``: each read's credential check and its
    /// record in one round trip), run by as many lanes as the saves have, each on a
    /// pooled connection. The handler runs on the I/O thread and never blocks: a
    /// request without a readable credential is answered there (401), any other is
    /// queued and its response deferred to the lane; so no worker takes part.
    /// Each read is then admitted as any `/v1` call is (`ConnectorEndpoint.admit`).
    /// Counted for `/metrics`: `receiver_read_batches_total`, `receiver_reads_total{path="batch"}`.
    private func batchedGet() -> RequestHandler {
        let database = endpoint.database
        let rateLimiter = endpoint.rateLimiter
        let readerUse = endpoint.readerUse
        let logger = endpoint.logger
        let callRecorder = endpoint.callRecorder
        // Under load a lane waits as long for more reads as for more saves: a batch
        // costs the database and this process about as much as a few reads.
        let settings = Batcher<PersonRead, Response>.Settings(
            lanes: endpoint.saveLanes, maxQueued: endpoint.saveQueue.maxWaiting, maxWait: endpoint.saveQueue.maxWait,
            gatherTime: endpoint.saveBatchWait)
        // Counted for `/metrics` as the saves are: reads per batch show how much a batch shares.
        let resource = ("resource", Record.resource.rawValue)
        let batches = Counter(label: "receiver_read_batches_total", dimensions: [resource])
        let readInBatch = Counter(label: "receiver_reads_total", dimensions: [resource, ("path", "batch")])
        let batcher = Batcher<PersonRead, Response>(
            settings: settings, key: { _ in nil }, timedOut: Problem.overloaded().makeResponse()
        ) { reads in
            batches.increment()
            readInBatch.increment(by: reads.count)
            do {
                return try database.withConnection { connection in
                    try PersonReads<Record>.run(reads, on: connection).map { result in
                        do {
                            let client = try result.client.get()
                            try ConnectorEndpoint.admit(client, method: .get, rateLimiter: rateLimiter, readerUse: readerUse, on: connection, logger: logger)
                            let record = try result.record()
                            var response = RequestSupport.record(record.json, version: record.version)
                            // RFC 9111 §5.2.2.5: records are personal data, for no cache to keep.
                            response.headerFields[.cacheControl] = "no-store"
                            return response
                        } catch {
                            return Self.problemResponse(error, logger: logger)
                        }
                    }
                }
            } catch {
                let response = Self.problemResponse(error, logger: logger)
                return reads.map { _ in response }
            }
        }
        return { request, context in
            let read = PersonRead(credential: try ConnectorEndpoint.credential(request), id: try context.parameters.require("id"))
            guard let deferred = context.deferResponse() else {
                return batcher.submit(read)  // a context not built by the server (a unit test): waiting here
            }
            let queued = batcher.submit(read) { response in
                callRecorder?.record(username: read.credential.username, status: response.status.code)
                deferred.complete(response)
            }
            if !queued {
                callRecorder?.record(username: read.credential.username, status: 503)
                deferred.complete(Problem.overloaded().makeResponse())
            }
            return Self.deferred
        }
    }

    /// The problem an error is (a database failure: 503), or a logged 500.
    private static func problemResponse(_ error: any Error, logger: Logger) -> Response {
        if let problem = Problem.from(error) { return problem.makeResponse() }
        logger.error("a batch of reads failed; answering 500", metadata: ["error": .string(String(reflecting: error))])
        return .problem(status: .internalServerError)
    }

    /// Refusals that the admins keep as sync errors: the save is run again alone,
    /// where the endpoint records them (a refusal is decided before anything is
    /// written, so running it again writes nothing either).
    private static func isKeptAsSyncError(_ error: ReceiverError) -> Bool {
        ConnectorEndpoint.isRecorded(Problem(error).status.code) && !isAuthentication(error)
    }

    /// A wrong credential, a suspended client, a reader's credential, a client over
    /// its rate: answered as they are, never recorded as sync errors.
    private static func isAuthentication(_ error: ReceiverError) -> Bool {
        switch error {
        case .unauthenticated, .clientSuspended, .readOnlyCredential, .rateLimited: return true
        default: return false
        }
    }

    private static func problemResponse(_ outcome: SaveOutcome<Record>) -> Response {
        Problem(outcome.error ?? .databaseUnavailable(detail: nil)).makeResponse()
    }

    /// The largest save body read on the I/O thread.
    static var largestBodyReadInline: Int { 16 << 10 }

    /// What a handler that deferred its response returns: never sent.
    private static var deferred: Response { Response(status: .accepted) }
}
