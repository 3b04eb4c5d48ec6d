import ArgumentParser
import Foundation
import HTTPServer
import Logging
import Metrics
import Postgres
import Prometheus
import ReceiverCore
import ReceiverHTTP
import Synchronization

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate the database if needed, then serve HTTP until SIGINT or SIGTERM.",
        discussion: """
            On SIGINT or SIGTERM the server stops accepting connections, finishes the requests \
            in flight (bounded by --shutdown-grace), closes idle connections, stops the embedded \
            cluster if it runs one, and exits 0. A second signal exits at once.

            Every option can also be set by the environment variable shown with it; flags win.
            """
    )

    @Option(help: ArgumentHelp("Address to listen on (IPv4 or IPv6). (env: RECEIVER_HOST, default 127.0.0.1)", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("TCP port to listen on; 0 picks a free one. (env: RECEIVER_PORT, default 8080)", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("Database connections in the pool. (env: RECEIVER_POOL_SIZE, default 20)", valueName: "n"))
    var poolSize: Int?

    @Option(help: ArgumentHelp("Seconds a request waits for a database connection before a 503. (env: RECEIVER_POOL_TIMEOUT, default 5)", valueName: "seconds"))
    var poolTimeout: Double?

    @Option(help: ArgumentHelp("Batches of concurrent saves (PUT …/by-external-id) that run at once, each one transaction on a pooled connection; saves arriving together share a transaction and one COMMIT. 0 runs every save in its own transaction. (env: RECEIVER_SAVE_LANES, default 2)", valueName: "n"))
    var saveLanes: Int?

    @Option(help: ArgumentHelp("Microseconds a save lane that finds fewer than 8 saves waiting, while another lane is running a batch, waits for more before it starts its own: bigger batches under load, for less database work per save. A save arriving at an idle server never waits. 0: never wait. (env: RECEIVER_SAVE_BATCH_WAIT, default 300)", valueName: "microseconds"))
    var saveBatchWait: Int?

    @Option(help: ArgumentHelp("Days the change feed keeps events (GET /v1/changes); a cursor older than that is answered 410 and the reader resynchronizes from the lists. Whole days are dropped once past it. (env: RECEIVER_EVENT_RETENTION_DAYS, default 30)", valueName: "days"))
    var eventRetentionDays: Int?

    @Option(help: ArgumentHelp("Days resolved sync errors are kept after their resolution (open ones are kept until resolved); 0 keeps them for ever. (env: RECEIVER_SYNC_ERROR_RETENTION_DAYS, default 30)", valueName: "days"))
    var syncErrorRetentionDays: Int?

    @Option(help: ArgumentHelp("Days the audit trail of admin changes is kept; 0 keeps it for ever. (env: RECEIVER_AUDIT_RETENTION_DAYS, default 365)", valueName: "days"))
    var auditRetentionDays: Int?

    @Option(help: ArgumentHelp("Threads running request handlers (they block on the database). (env: RECEIVER_WORKER_THREADS, default 32)", valueName: "n"))
    var workerThreads: Int?

    @Option(help: ArgumentHelp("Nice value added to worker threads so that under CPU saturation the event loops (reading requests, shedding, /healthz) run first; 0 to 19, 0 gives them equal priority. (env: RECEIVER_WORKER_NICE, default 10)", valueName: "n"))
    var workerNice: Int?

    @Option(help: ArgumentHelp("Requests that may wait for a worker thread; more are answered 503 with Retry-After at once. (env: RECEIVER_MAX_QUEUED_REQUESTS, default: 4 per worker thread)", valueName: "n"))
    var maxQueuedRequests: Int?

    @Option(help: ArgumentHelp("Seconds a request may wait for a worker thread before it is answered 503 with Retry-After instead. (env: RECEIVER_QUEUE_TIMEOUT, default 5)", valueName: "seconds"))
    var queueTimeout: Double?

    @Option(help: ArgumentHelp("Requests per second each client may make to /v1 on average; more are answered 429 with Retry-After. 0 turns rate limiting off. (env: RECEIVER_CLIENT_RATE_LIMIT, default 0)", valueName: "per-second"))
    var clientRateLimit: Double?

    @Option(help: ArgumentHelp("Requests a client may make at once before its rate limit applies. (env: RECEIVER_CLIENT_RATE_BURST, default: two seconds' worth of --client-rate-limit)", valueName: "n"))
    var clientRateBurst: Int?

    @Option(help: ArgumentHelp("Event-loop threads doing socket I/O. (env: RECEIVER_IO_THREADS, default: one per core)", valueName: "n"))
    var ioThreads: Int?

    @Option(help: ArgumentHelp("Most open connections; more are closed on accept. (env: RECEIVER_MAX_CONNECTIONS, default 16384)", valueName: "n"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("Largest request body in bytes; larger is a 413. (env: RECEIVER_MAX_BODY_BYTES, default 1048576)", valueName: "bytes"))
    var maxBodyBytes: Int?

    @Option(help: ArgumentHelp("Seconds to receive a request's headers before a 408. (env: RECEIVER_HEADER_TIMEOUT, default 10)", valueName: "seconds"))
    var headerTimeout: Double?

    @Option(help: ArgumentHelp("Seconds to receive a request's body before a 408. (env: RECEIVER_BODY_TIMEOUT, default 30)", valueName: "seconds"))
    var bodyTimeout: Double?

    @Option(help: ArgumentHelp("Seconds an idle keep-alive connection stays open. (env: RECEIVER_IDLE_TIMEOUT, default 60)", valueName: "seconds"))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp("Seconds a client may take to read a response before it is cut off. (env: RECEIVER_WRITE_TIMEOUT, default 30)", valueName: "seconds"))
    var writeTimeout: Double?

    @Option(help: ArgumentHelp("Seconds to let in-flight requests finish on shutdown. (env: RECEIVER_SHUTDOWN_GRACE, default 10)", valueName: "seconds"))
    var shutdownGrace: Double?

    @Option(help: ArgumentHelp("One log line per request: on or off. (env: RECEIVER_ACCESS_LOG, default on)", valueName: "on|off"))
    var accessLog: String?

    @Option(help: ArgumentHelp("The OpenAPI document served at /openapi.yaml. (env: RECEIVER_OPENAPI_FILE; default: openapi.yaml beside the migrations directory)", valueName: "path"))
    var openapiFile: String?

    @Option(help: ArgumentHelp("The admin console's files, served at /admin/ while the admin API is on. (env: RECEIVER_CONSOLE_DIR; default: console/ beside the migrations directory)", valueName: "path"))
    var consoleDir: String?

    @Option(help: ArgumentHelp(
        "File holding the admin token that turns /admin/v1 on (a trailing line break is ignored). (env: RECEIVER_ADMIN_TOKEN_FILE, or the token itself in RECEIVER_ADMIN_TOKEN; without either the admin API is off)",
        valueName: "path"))
    var adminTokenFile: String?

    @Option(help: ArgumentHelp(
        "Public base URL at which the Connector reaches this server, e.g. https://receiver.example.com: the default connection of new clients, here and on the turn-up sheets of `turnup add` run beside this server on the embedded default. (env: RECEIVER_PUBLIC_URL, default http://<host>:<port>)",
        valueName: "url"))
    var publicURL: String?

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var webhooks: WebhookOptions

    func run() throws {
        ShutdownSignals.install()
        let logger = try logging.bootstrap()
        let settings = try ServeSettings(self)
        let admin = try AdminSettings(adminTokenFile: adminTokenFile, publicURL: publicURL)
        let migrations = try database.resolvedMigrationsDirectory()
        let openAPIDocument = loadOpenAPIDocument(migrationsDirectory: migrations, logger: logger)
        let consoleAssets = admin.authenticator == nil ? nil : loadConsoleAssets(migrationsDirectory: migrations, logger: logger)

        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))

        let handle = try database.open(logger: logger)
        defer { handle.close() }
        try MigrationRunner.run(handle, directory: migrations, logger: logger)

        var poolConfiguration = try handle.configuration()
        poolConfiguration.responseTimeout = ServeSettings.responseTimeout(statementTimeout: handle.statementTimeout, poolMode: handle.poolMode)
        let pool = PostgresConnectionPool(
            configuration: poolConfiguration,
            maximumConnections: settings.poolSize, acquireTimeout: settings.poolTimeout, logger: logger)
        defer { pool.close() }
        if handle.poolMode == .transaction { try checkPooledSessions(pool, logger: logger) }
        // Webhook delivery: woken by this instance's commits, started with the server, stopped before it.
        var webhookEngine: WebhookDeliveryEngine?
        var wakeWebhooks: (@Sendable () -> Void)?
        if let webhookSettings = try webhooks.settings(keepFinished: settings.eventRetention) {
            let engine = try WebhookDeliveryEngine(database: pool, settings: webhookSettings, logger: logger)
            (webhookEngine, wakeWebhooks) = (engine, { engine.wake() })
        }

        // Without a public URL, new clients get this server's own address; with
        // --port 0 the port is only known once bound.
        let ownAddress = Mutex(ClientConnection(scheme: "http", host: settings.server.host, port: settings.server.port))
        let service = ReceiverService(
            database: pool,
            configuration: ReceiverService.Configuration(
                renderMetrics: { metrics.emitToBuffer() },
                openAPIDocument: openAPIDocument,
                adminAuthenticator: admin.authenticator,
                publicConnection: { [publicConnection = admin.publicConnection] in publicConnection ?? ownAddress.withLock { $0 } },
                clientRateLimit: settings.clientRateLimit, saveLanes: settings.saveLanes, saveBatchWait: settings.saveBatchWait,
                saveQueue: ReceiverService.SaveQueueLimits(
                    maxWaiting: settings.server.effectiveMaxQueuedRequests, maxWait: settings.server.admission.maxQueueWait),
                eventRetention: settings.eventRetention, rowRetention: settings.rowRetention,
                localChangeObserver: wakeWebhooks,
                webhookAllowPrivateAddresses: try webhooks.allowsPrivateAddresses(), consoleAssets: consoleAssets),
            logger: logger)
        var serverConfiguration = settings.server
        if serverConfiguration.accessLog {
            serverConfiguration.accessLogWriter = try logging.accessLogWriter(logger: logger)
        }
        serverConfiguration.admission.check = service.admissionCheck
        let server = try HTTPServer(configuration: serverConfiguration, router: service.makeRouter(), logger: logger)
        try server.start()
        service.start()
        webhookEngine?.start()
        if let port = server.boundPort { ownAddress.withLock { $0.port = port } }
        // `turnup add` beside this server reads its public URL from the data directory;
        // written before the "listening" line, so whoever sees that line finds the file.
        // A wildcard listen address is no address to give a Connector: nothing is written.
        let urlFileDirectory = handle.embedded?.dataDirectory
        let knownPublicConnection = admin.publicConnection
            ?? (["0.0.0.0", "::"].contains(settings.server.host) ? nil : ownAddress.withLock { $0 })
        if let urlFileDirectory, let knownPublicConnection {
            do {
                try ServeURLFile.write(knownPublicConnection.baseURL, dataDirectory: urlFileDirectory)
            } catch {
                logger.warning("could not write \(ServeURLFile.path(dataDirectory: urlFileDirectory)): \(error); `turnup add` will not know this server's URL")
            }
        }
        defer { if let urlFileDirectory { ServeURLFile.remove(dataDirectory: urlFileDirectory) } }

        let address = server.boundAddress.map { "\($0)" } ?? "\(settings.server.host):\(settings.server.port)"
        logger.notice("connector-receiver listening on http://\(address)")
        if let source = admin.tokenSource {
            let base = (admin.publicConnection ?? ownAddress.withLock { $0 }).baseURL
            logger.notice("admin API is on at /admin/v1 (token from \(source)); new clients' default connection is \(base)")
            if consoleAssets != nil { logger.notice("admin console at http://\(address)/admin/") }
            if admin.publicConnection == nil, ["0.0.0.0", "::"].contains(settings.server.host) {
                logger.warning("listening on all addresses without RECEIVER_PUBLIC_URL: new clients default to \(base), which the Connector cannot reach; set --public-url")
            }
        } else {
            logger.notice("admin API is off: no RECEIVER_ADMIN_TOKEN, RECEIVER_ADMIN_TOKEN_FILE or --admin-token-file; every /admin/v1 request answers 404")
        }

        if (logging.logFormat ?? Environment.value("RECEIVER_LOG_FORMAT") ?? "text").lowercased() == "text" {
            ServeNextSteps(
                local: ownAddress.withLock { $0 }, adminTokenSource: admin.tokenSource, servesOpenAPI: openAPIDocument != nil,
                turnupDatabaseFlags: ServeNextSteps.turnupDatabaseFlags(
                    dataDir: database.dataDir ?? Environment.value("RECEIVER_DATA_DIR"), embedded: handle.embedded != nil)
            ).print()
        }

        let signal = ShutdownSignals.wait()
        logger.notice("received \(ShutdownSignals.name(signal)), shutting down")
        webhookEngine?.stop(gracePeriod: min(settings.shutdownGrace, .seconds(5)))
        service.stop()
        server.shutdown(gracePeriod: settings.shutdownGrace)
        logger.notice("stopped serving")
    }

    /// Through a transaction-mode pooler the sessions are set up by the server and the
    /// pooler, not by our startup options: check what the decoders rely on, and say
    /// whether statements have a timeout.
    private func checkPooledSessions(_ pool: PostgresConnectionPool, logger: Logger) throws {
        let (timeout, dateStyle, timeZone) = try pool.withConnection { connection in
            try connection.query("SELECT current_setting('statement_timeout'), current_setting('DateStyle'), current_setting('TimeZone')")
                .first!.decode((String, String, String).self)
        }
        guard dateStyle.uppercased().hasPrefix("ISO") else {
            throw ValidationError("The database sessions have DateStyle '\(dateStyle)'; connector-receiver reads dates in the ISO style. Set DateStyle = 'ISO, YMD' for the database or role (ALTER ROLE … SET DateStyle = 'ISO, YMD').")
        }
        logger.notice("database pool mode transaction: no session state; sessions have statement_timeout \(timeout), TimeZone \(timeZone)")
        if timeout == "0" {
            logger.warning("database statements have no timeout through the pooler: set one on the role (ALTER ROLE <role> SET statement_timeout = '30s') or PgBouncer's query_timeout")
        }
    }

    /// The console's files: `--console-dir`, `RECEIVER_CONSOLE_DIR`, else `console/`
    /// beside the migrations directory (as `openapi.yaml`; `/usr/share/connector-receiver/` in the image).
    private func loadConsoleAssets(migrationsDirectory: String, logger: Logger) -> ConsoleAssets? {
        let path = consoleDir ?? Environment.value("RECEIVER_CONSOLE_DIR")
            ?? URL(fileURLWithPath: migrationsDirectory).deletingLastPathComponent().appendingPathComponent("console").path
        guard let assets = ConsoleAssets(directory: path) else {
            logger.warning("no admin console at \(path) (no index.html): /admin/ will answer 404")
            return nil
        }
        return assets
    }

    private func loadOpenAPIDocument(migrationsDirectory: String, logger: Logger) -> [UInt8]? {
        let path = openapiFile ?? Environment.value("RECEIVER_OPENAPI_FILE")
            ?? URL(fileURLWithPath: migrationsDirectory).deletingLastPathComponent().appendingPathComponent("openapi.yaml").path
        guard let data = FileManager.default.contents(atPath: path) else {
            logger.warning("no OpenAPI document at \(path): /openapi.yaml will answer 404")
            return nil
        }
        return Array(data)
    }
}

/// `serve`'s options resolved against the environment and checked.
struct ServeSettings {
    var server: HTTPServer.Configuration
    var poolSize: Int
    var poolTimeout: Duration
    var saveLanes: Int
    var saveBatchWait: Duration
    var eventRetention: Duration
    var rowRetention: RowRetention.Settings
    var shutdownGrace: Duration
    /// nil: no per-client rate limiting.
    var clientRateLimit: ClientRateLimiter.Settings?

    /// How long a request waits for the database's answer to one statement: the
    /// server's statement timeout and `responseGrace` more, so a slow statement is
    /// cancelled by the server (the connection stays) and only a silent server
    /// (stopped, hung, unreachable) costs a connection. Through a pooler in
    /// transaction mode the timeout is the role's, unknown here: 10 s is assumed.
    /// With no statement timeout at all (0), no deadline either.
    static func responseTimeout(statementTimeout: Duration?, poolMode: PostgresConfiguration.PoolMode) -> Duration? {
        switch (statementTimeout, poolMode) {
        case (let timeout?, _): timeout + responseGrace
        case (nil, .transaction): .seconds(10) + responseGrace
        case (nil, .session): nil
        }
    }

    static let responseGrace = Duration.seconds(2)

    init(_ options: Serve) throws {
        func integer(_ flag: Int?, _ variable: String, default value: Int, range: ClosedRange<Int>, name: String) throws -> Int {
            let resolved: Int
            if let flag {
                resolved = flag
            } else if let text = Environment.value(variable) {
                guard let parsed = Int(text) else { throw ValidationError("\(variable)=\(text) is not a whole number.") }
                resolved = parsed
            } else {
                resolved = value
            }
            guard range.contains(resolved) else {
                throw ValidationError("--\(name) (or \(variable)) must be from \(range.lowerBound) to \(range.upperBound), not \(resolved).")
            }
            return resolved
        }
        func seconds(_ flag: Double?, _ variable: String, default value: Double, name: String) throws -> Duration {
            let resolved: Double
            if let flag {
                resolved = flag
            } else if let text = Environment.value(variable) {
                guard let parsed = Double(text) else { throw ValidationError("\(variable)=\(text) is not a number of seconds.") }
                resolved = parsed
            } else {
                resolved = value
            }
            guard resolved > 0, resolved <= 86_400 else {
                throw ValidationError("--\(name) (or \(variable)) must be more than 0 and at most 86400 seconds, not \(resolved).")
            }
            return .milliseconds(Int64(resolved * 1000))
        }

        var server = HTTPServer.Configuration()
        server.host = options.host ?? Environment.value("RECEIVER_HOST") ?? "127.0.0.1"
        server.port = try integer(options.port, "RECEIVER_PORT", default: 8080, range: 0...65_535, name: "port")
        server.ioThreads = try integer(options.ioThreads, "RECEIVER_IO_THREADS", default: HTTPServer.Configuration.processorCount, range: 1...64, name: "io-threads")
        server.workerThreads = try integer(options.workerThreads, "RECEIVER_WORKER_THREADS", default: 32, range: 1...1024, name: "worker-threads")
        server.workerNiceness = try integer(options.workerNice, "RECEIVER_WORKER_NICE", default: 10, range: 0...19, name: "worker-nice")
        server.admission.maxQueuedRequests = try integer(
            options.maxQueuedRequests, "RECEIVER_MAX_QUEUED_REQUESTS",
            default: HTTPServer.Admission.queuedRequestsPerWorker * server.workerThreads, range: 0...1_000_000,
            name: "max-queued-requests")
        server.admission.maxQueueWait = try seconds(options.queueTimeout, "RECEIVER_QUEUE_TIMEOUT", default: 5, name: "queue-timeout")
        server.admission.overloadResponse = ReceiverService.overloadResponse
        server.maxConnections = try integer(options.maxConnections, "RECEIVER_MAX_CONNECTIONS", default: 16_384, range: 1...1_000_000, name: "max-connections")
        server.limits.maxBodyBytes = try integer(options.maxBodyBytes, "RECEIVER_MAX_BODY_BYTES", default: 1 << 20, range: 1...(64 << 20), name: "max-body-bytes")
        server.timeouts.headerRead = try seconds(options.headerTimeout, "RECEIVER_HEADER_TIMEOUT", default: 10, name: "header-timeout")
        server.timeouts.bodyRead = try seconds(options.bodyTimeout, "RECEIVER_BODY_TIMEOUT", default: 30, name: "body-timeout")
        server.timeouts.idle = try seconds(options.idleTimeout, "RECEIVER_IDLE_TIMEOUT", default: 60, name: "idle-timeout")
        server.timeouts.write = try seconds(options.writeTimeout, "RECEIVER_WRITE_TIMEOUT", default: 30, name: "write-timeout")
        server.accessLog = try Environment.onOff(
            options.accessLog, "RECEIVER_ACCESS_LOG", default: true, name: "--access-log (or RECEIVER_ACCESS_LOG)")
        self.server = server
        self.poolSize = try integer(options.poolSize, "RECEIVER_POOL_SIZE", default: 20, range: 1...1000, name: "pool-size")
        self.poolTimeout = try seconds(options.poolTimeout, "RECEIVER_POOL_TIMEOUT", default: 5, name: "pool-timeout")
        self.saveLanes = try integer(options.saveLanes, "RECEIVER_SAVE_LANES", default: 2, range: 0...1000, name: "save-lanes")
        self.saveBatchWait = .microseconds(try integer(
            options.saveBatchWait, "RECEIVER_SAVE_BATCH_WAIT", default: 300, range: 0...100_000, name: "save-batch-wait"))
        self.eventRetention = .seconds(86_400 * (try integer(
            options.eventRetentionDays, "RECEIVER_EVENT_RETENTION_DAYS", default: 30, range: 1...3650, name: "event-retention-days")))
        // Days; 0: for ever.
        func keptFor(_ days: Int) -> Duration? { days == 0 ? nil : .seconds(86_400 * days) }
        self.rowRetention = RowRetention.Settings(
            resolvedSyncErrors: keptFor(try integer(
                options.syncErrorRetentionDays, "RECEIVER_SYNC_ERROR_RETENTION_DAYS", default: 30, range: 0...36_500, name: "sync-error-retention-days")),
            auditTrail: keptFor(try integer(
                options.auditRetentionDays, "RECEIVER_AUDIT_RETENTION_DAYS", default: 365, range: 0...36_500, name: "audit-retention-days")))
        self.shutdownGrace = try seconds(options.shutdownGrace, "RECEIVER_SHUTDOWN_GRACE", default: 10, name: "shutdown-grace")

        let rate: Double
        if let flag = options.clientRateLimit {
            rate = flag
        } else if let text = Environment.value("RECEIVER_CLIENT_RATE_LIMIT") {
            guard let parsed = Double(text) else { throw ValidationError("RECEIVER_CLIENT_RATE_LIMIT=\(text) is not a number of requests per second.") }
            rate = parsed
        } else {
            rate = 0
        }
        guard rate >= 0, rate <= 1_000_000 else {
            throw ValidationError("--client-rate-limit (or RECEIVER_CLIENT_RATE_LIMIT) must be from 0 (off) to 1000000 requests per second, not \(rate).")
        }
        let burst = try integer(
            options.clientRateBurst, "RECEIVER_CLIENT_RATE_BURST",
            default: ClientRateLimiter.Settings.defaultBurst(requestsPerSecond: rate), range: 1...10_000_000,
            name: "client-rate-burst")
        self.clientRateLimit = rate > 0 ? ClientRateLimiter.Settings(requestsPerSecond: rate, burst: burst) : nil
    }
}
