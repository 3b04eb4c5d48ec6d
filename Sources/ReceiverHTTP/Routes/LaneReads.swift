import Foundation
import HTTPServer
import Logging
import Metrics
import Postgres
import ReceiverCore

/// `/v1` reads answered by lanes (a ``Batcher`` of reads) instead of workers.
///
/// The handler runs on the connection's I/O thread and never blocks: it reads
/// the credential and the request's query, queues the read and defers its
/// response, which the lane completes; no worker takes part. A request without a
/// readable credential is answered there (401). A lane runs the reads that
/// arrived together on one pooled connection, in one round trip where the route
/// can (each read's credential looked up beside what it reads:
/// `AuthenticatedRead`), then admits each read as any `/v1` call is
/// (`ConnectorEndpoint.admit`) and answers it.
///
/// Counted for `/metrics` as the saves are, under the route's `dimensions`:
/// `receiver_read_batches_total`, `receiver_reads_total{path="batch"}`; reads per
/// batch show how much a batch shares.
struct LaneReads<Query: Sendable> {
    /// A read as a lane takes it: the credential, and what the request asks, or
    /// why it cannot be read: answered after the credential is checked and the
    /// call admitted, as any `/v1` call's bad query is.
    struct Read: Sendable {
        let credential: ClientCredential
        let query: Result<Query, any Error>
    }

    /// What a lane found for one read: whom its credential authenticates (or the
    /// error that stopped the read), and the answer for that client only.
    struct Found {
        let client: Result<AuthenticatedClient, any Error>
        let answer: () throws -> Response
    }

    /// Reads a batch's queries on one connection: one ``Found`` per query, in order.
    typealias Run = @Sendable (_ queries: [Query], _ connection: PostgresConnection) throws -> [Found]

    /// The ``Found`` of a read's outcome in the core, answered with `answer` of what it read.
    static func found<Value>(_ outcome: Result<ClientRead<Value>, PostgresError>, answer: @escaping (Value) throws -> Response) -> Found {
        switch outcome {
        case .success(let read): Found(client: read.client.mapError { $0 }, answer: { try answer(read.value) })
        case .failure(let error): Found(client: .failure(error), answer: { throw error })
        }
    }

    /// - Parameters:
    ///   - parse: the read's query from the request and its credential; what it
    ///     throws is the answer once the credential passes.
    ///   - run: the lane's reading of a batch.
    static func handler(
        _ endpoint: ConnectorEndpoint, counted dimensions: [(String, String)],
        parse: @escaping @Sendable (Request, PathParameters, ClientCredential) throws -> Query, run: @escaping Run
    ) -> RequestHandler {
        let database = endpoint.database
        let rateLimiter = endpoint.rateLimiter
        let readerUse = endpoint.readerUse
        let logger = endpoint.logger
        let callRecorder = endpoint.callRecorder
        // Under load a lane waits as long for more reads as for more saves: a batch
        // costs the database and this process about as much as a few reads.
        let settings = Batcher<Read, Response>.Settings(
            lanes: endpoint.saveLanes, maxQueued: endpoint.saveQueue.maxWaiting, maxWait: endpoint.saveQueue.maxWait,
            gatherTime: endpoint.saveBatchWait)
        let batches = Counter(label: "receiver_read_batches_total", dimensions: dimensions)
        let readInBatch = Counter(label: "receiver_reads_total", dimensions: dimensions + [("path", "batch")])
        let batcher = Batcher<Read, Response>(
            settings: settings, key: { _ in nil }, timedOut: Problem.overloaded().makeResponse()
        ) { reads in
            batches.increment()
            readInBatch.increment(by: reads.count)
            do {
                return try database.withConnection { connection in
                    try found(reads, run: run, on: connection).map { found in
                        do {
                            let client = try found.client.get()
                            try ConnectorEndpoint.admit(client, method: .get, rateLimiter: rateLimiter, readerUse: readerUse, on: connection, logger: logger)
                            var response = try found.answer()
                            // RFC 9111 §5.2.2.5: records and lists are personal data, for no cache to keep.
                            response.headerFields[.cacheControl] = "no-store"
                            return response
                        } catch {
                            return problemResponse(error, logger: logger)
                        }
                    }
                }
            } catch {
                let response = problemResponse(error, logger: logger)
                return reads.map { _ in response }
            }
        }
        return { request, context in
            let credential: ClientCredential
            do {
                credential = try ConnectorEndpoint.credential(request)
            } catch let problem as Problem {
                // Noted for the console as `recordingCalls` notes it: when the request names a user.
                if let username = BasicCredentials.parse(request)?.username { callRecorder?.record(username: username, status: problem.status.code) }
                throw problem
            }
            let parameters = context.parameters
            let read = Read(credential: credential, query: Result { try parse(request, parameters, credential) })
            guard let deferred = context.deferResponse() else {
                return batcher.submit(read)  // a context not built by the server (a unit test): waiting here
            }
            let queued = batcher.submit(read) { response in
                callRecorder?.record(username: credential.username, status: response.status.code)
                deferred.complete(response)
            }
            if !queued {
                callRecorder?.record(username: credential.username, status: 503)
                deferred.complete(Problem.overloaded().makeResponse())
            }
            return Response(status: .accepted)  // deferred: never sent
        }
    }

    /// Each read's ``Found``: those with a query go to `run` together; one whose
    /// request cannot be read has its credential checked alone, then is answered
    /// with why.
    private static func found(_ reads: [Read], run: Run, on connection: PostgresConnection) throws -> [Found] {
        var found = [Found?](repeating: nil, count: reads.count)
        var readable: [Int] = [], queries: [Query] = []
        for (index, read) in reads.enumerated() {
            switch read.query {
            case .success(let query):
                readable.append(index)
                queries.append(query)
            case .failure(let error):
                let client: Result<AuthenticatedClient, any Error>
                do {
                    client = .success(try ClientAuthenticator.authenticate(read.credential, on: connection))
                } catch let refused as ReceiverError {
                    client = .failure(refused)
                }
                found[index] = Found(client: client, answer: { throw error })
            }
        }
        if !queries.isEmpty {
            for (index, one) in zip(readable, try run(queries, connection)) { found[index] = one }
        }
        return found.map { $0! }
    }

    /// The problem an error is (a database failure: 503), or a logged 500.
    static func problemResponse(_ error: any Error, logger: Logger) -> Response {
        if let problem = Problem.from(error) { return problem.makeResponse() }
        logger.error("a batch of reads failed; answering 500", metadata: ["error": .string(String(reflecting: error))])
        return .problem(status: .internalServerError)
    }
}
