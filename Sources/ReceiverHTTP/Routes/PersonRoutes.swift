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

        let listAlone = endpoint.read { call in
            let read = try Self.listRead(call.request, credential: try ConnectorEndpoint.credential(call.request))
            let records = try PersonWrites<Record>.list(clientId: call.clientId, filter: read.filter, page: read.page, on: call.connection)
            return .json(read.page.listBody(records, json: \.json, sortKey: PersonWrites<Record>.sortKey))
        }
        if endpoint.saveLanes > 0 {
            // On the I/O thread: the page is handed to a lane, which answers.
            router.get(path, options: [.inline, .admitted], handler: batchedList())
        } else {
            router.get(path, handler: listAlone)
        }

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

    /// `GET …/{id}` answered by lanes (``LaneReads``): the reads that arrive
    /// together share one statement (``PersonReads``: each read's credential check
    /// and its record in one round trip), run by as many lanes as the saves have.
    private func batchedGet() -> RequestHandler {
        LaneReads<PersonRead>.handler(
            endpoint, counted: [("resource", Record.resource.rawValue)],
            parse: { _, parameters, credential in PersonRead(credential: credential, id: try parameters.require("id")) }
        ) { reads, connection in
            try PersonReads<Record>.run(reads, on: connection).map { result in
                LaneReads<PersonRead>.Found(client: result.client.mapError { $0 }, answer: {
                    let record = try result.record()
                    return RequestSupport.record(record.json, version: record.version)
                })
            }
        }
    }

    /// The page a list request asks for; a bad `limit`, `cursor` or filter is a 400.
    static func listRead(_ request: Request, credential: ClientCredential) throws -> PersonListRead {
        let page = try RequestSupport.page(request, keyCount: 2)
        let filter = PersonListFilter(
            clubId: try RequestSupport.queryClubId(request),
            email: try RequestSupport.queryText(request, "email", maxLength: 254),
            externalId: try RequestSupport.queryText(request, "externalId", maxLength: 255),
            updatedSince: try RequestSupport.queryTimestamp(request, "updatedSince"),
            includeDisabledClubs: try RequestSupport.queryBool(request, "includeDisabledClubs") ?? false)
        return try PersonListRead(credential: credential, filter: filter, page: page)
    }

    /// `GET …` (a page of the list) answered by lanes (``LaneReads``): each page
    /// is one statement with its credential's check (``PersonListReads``), and the
    /// pages that arrive together go in one round trip.
    private func batchedList() -> RequestHandler {
        LaneReads<PersonListRead>.handler(
            endpoint, counted: [("resource", Record.resource.rawValue), ("route", "list")],
            parse: { request, _, credential in try Self.listRead(request, credential: credential) }
        ) { reads, connection in
            zip(reads, try PersonListReads<Record>.run(reads, on: connection)).map { read, outcome in
                LaneReads<PersonListRead>.found(outcome) { records in
                    .json(read.page.listBody(records, json: \.json, sortKey: PersonWrites<Record>.sortKey))
                }
            }
        }
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
