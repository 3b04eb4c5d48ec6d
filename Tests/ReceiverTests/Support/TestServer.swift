import Foundation
import HTTPServer
import Logging
import OutboundHTTP
import Postgres
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// A receiver on a fresh database, serving on 127.0.0.1 and a free port, and a
/// real HTTP client (libcurl) to call it. Everything is torn down after `body`.
struct TestServer {
    let port: Int
    let pool: PostgresConnectionPool
    let configuration: PostgresConfiguration

    static let client = OutboundHTTPClient(configuration: OutboundHTTPClient.Configuration(maxIdleHandles: 16))

    /// - Parameters:
    ///   - service: the service's configuration; its `publicConnection` is
    ///     replaced by this server's address.
    ///   - adminToken: turns `/admin/v1` on with this token; nil leaves it off.
    ///   - logger: what the pool, the service and the server log to.
    ///   - accessLog: one log line per request, as `serve` writes them.
    static func run<Result>(
        poolSize: Int = 8,
        service serviceConfiguration: ReceiverService.Configuration = ReceiverService.Configuration(),
        adminToken: String? = nil,
        logger: Logger = TestDatabase.logger,
        accessLog: Bool = false,
        _ body: (TestServer) throws -> Result
    ) throws -> Result {
        try TestDatabase.withMigratedDatabase { configuration in
            try run(database: configuration, poolSize: poolSize, service: serviceConfiguration,
                    adminToken: adminToken, logger: logger, accessLog: accessLog, body)
        }
    }

    /// A receiver on the given database, which may be unreachable.
    static func run<Result>(
        database configuration: PostgresConfiguration, poolSize: Int = 8,
        service serviceConfiguration: ReceiverService.Configuration = ReceiverService.Configuration(),
        adminToken: String? = nil,
        logger: Logger = TestDatabase.logger,
        accessLog: Bool = false,
        _ body: (TestServer) throws -> Result
    ) throws -> Result {
        do {
            let pool = PostgresConnectionPool(
                configuration: configuration, maximumConnections: poolSize, acquireTimeout: .seconds(2),
                logger: logger)
            defer { pool.close() }
            var serviceConfiguration = serviceConfiguration
            if let adminToken { serviceConfiguration.adminAuthenticator = try AdminAuthenticator(token: adminToken) }
            // New clients' default connection is this server, once its port is known.
            let boundPort = Mutex(0)
            serviceConfiguration.publicConnection = { ClientConnection(scheme: "http", host: "127.0.0.1", port: boundPort.withLock { $0 }) }
            let service = ReceiverService(database: pool, configuration: serviceConfiguration, logger: logger)
            var serverConfiguration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, ioThreads: 1, workerThreads: 16)
            serverConfiguration.accessLog = accessLog
            serverConfiguration.metrics = false
            serverConfiguration.admission.check = service.admissionCheck  // as `serve` does
            let server = try HTTPServer(configuration: serverConfiguration, router: service.makeRouter(), logger: logger)
            try server.start()
            boundPort.withLock { $0 = server.boundPort ?? 0 }
            defer {
                service.stop()
                server.shutdown(gracePeriod: .seconds(2))
            }
            return try body(TestServer(port: try #require(server.boundPort), pool: pool, configuration: configuration))
        }
    }

    /// Turns up a client directly in the database; returns its credentials.
    @discardableResult
    func turnUp(
        _ clientId: String, clubs: [(clubId: String, name: String, enabled: Bool)] = [("club-1", "Downtown", true), ("club-2", "Uptown", true)],
        options: ClientOptions = ClientOptions()
    ) throws -> APICredentials {
        let credential = try pool.withConnection { connection in
            try ClientStore.turnUp(
                TurnUpRequest(clientId: clientId, name: "Client \(clientId)", clubs: clubs,
                              connection: ["scheme": .string("http"), "host": .string("127.0.0.1"), "port": .number(Double(port))],
                              options: options),
                on: connection)
        }
        return APICredentials(username: credential.username, password: credential.password)
    }

    func request(
        _ method: String, _ path: String, json: String? = nil, headers: [(String, String)] = [],
        auth: APICredentials? = nil, contentType: String? = "application/json"
    ) throws -> APIResponse {
        var allHeaders = headers
        if json != nil, let contentType { allHeaders.append(("Content-Type", contentType)) }
        let response = try Self.client.send(OutboundRequest(
            method: method, url: "http://127.0.0.1:\(port)\(path)", headers: allHeaders,
            body: json.map { Array($0.utf8) },
            basicAuth: auth.map { OutboundRequest.BasicAuth(username: $0.username, password: $0.password) },
            totalTimeout: .seconds(30)))
        return APIResponse(response)
    }
}

struct APICredentials: Sendable {
    let username: String
    let password: String
}

/// A response with its body parsed as JSON when it is JSON.
struct APIResponse: CustomStringConvertible {
    let status: Int
    let raw: OutboundResponse
    let json: JSONValue?

    init(_ raw: OutboundResponse) {
        self.status = raw.status
        self.raw = raw
        self.json = try? JSONParser.parse(raw.body)
    }

    func header(_ name: String) -> String? { raw.header(name) }

    var body: String { String(decoding: raw.body, as: UTF8.self) }

    /// A top-level member of the JSON object body.
    subscript(name: String) -> JSONValue? { json?.objectValue?[name] }

    func string(_ name: String) -> String? { self[name]?.stringValue }

    /// The `field` of each `errors[]` entry of a problem.
    var errorFields: [String] {
        guard case .array(let errors)? = self["errors"] else { return [] }
        return errors.compactMap { $0.objectValue?["field"]?.stringValue }
    }

    var description: String { "\(status) \(body)" }
}
