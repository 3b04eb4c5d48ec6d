import HTTPServer
import Logging
import Postgres
import ReceiverCore

/// The receiver's routes over one database pool: what `serve` runs.
public final class ReceiverService: Sendable {
    public struct Configuration: Sendable {
        /// Renders the Prometheus text exposition for `/metrics`.
        public var renderMetrics: @Sendable () -> [UInt8]
        /// The OpenAPI document served at `/openapi.yaml`, if found.
        public var openAPIDocument: [UInt8]?
        /// Checks the admin token; nil turns `/admin/v1` off (every path answers 404).
        public var adminAuthenticator: AdminAuthenticator?
        /// The `connection` of clients turned up without one (`RECEIVER_PUBLIC_URL`,
        /// else the server's own address). A function, so a server on port 0 can
        /// answer with the port it bound.
        public var publicConnection: @Sendable () -> ClientConnection
        /// Calls a client's connection for `POST /admin/v1/clients/{clientId}/verify`.
        public var verifier: ConnectionVerifier
        /// Each client's `/v1` request rate; nil: no rate limiting.
        public var clientRateLimit: ClientRateLimiter.Settings?
        /// How many batches of concurrent saves run at once, each one transaction
        /// on its own connection; 0 runs every save in its own transaction.
        public var saveLanes: Int
        /// How long a lane that finds only a few saves waiting, while another lane
        /// is running a batch, waits for more before it starts its own; zero: never.
        public var saveBatchWait: Duration
        /// How many saves may wait for a lane, and for how long, before they are
        /// answered `503` overloaded; `serve` uses the HTTP server's bounds on
        /// requests waiting for a worker (`--max-queued-requests`, `--queue-timeout`).
        public var saveQueue: SaveQueueLimits
        /// How long events are kept; a change feed cursor older than this is `410`.
        public var eventRetention: Duration
        /// How long idempotency keys, resolved sync errors and the audit trail are kept.
        public var rowRetention: RowRetention.Settings
        /// How often `start()`'s maintenance runs: partitions ahead and past
        /// retention, and `rowRetention`.
        public var maintenanceInterval: Duration
        /// How often readers waiting on the change feed are checked when no change
        /// made here wakes them (changes other instances commit, a horizon moving on).
        public var feedPollInterval: Duration
        /// Called after every commit of this instance that recorded events: wakes webhook
        /// delivery (`serve` sets it once the engine exists).
        public var localChangeObserver: (@Sendable () -> Void)?
        /// Webhook endpoints may be created at loopback, private and link-local addresses
        /// (`serve --webhook-allow-private-addresses`); else such URLs are refused.
        public var webhookAllowPrivateAddresses: Bool
        /// The admin console's files, served at `/admin/` while the admin API is on; nil: no console.
        public var consoleAssets: ConsoleAssets?
        /// How often each client's noted `/v1` calls (its health in the console) are written.
        public var callHealthInterval: Duration

        public init(
            renderMetrics: @escaping @Sendable () -> [UInt8] = { [] }, openAPIDocument: [UInt8]? = nil,
            adminAuthenticator: AdminAuthenticator? = nil,
            publicConnection: @escaping @Sendable () -> ClientConnection = { ClientConnection(scheme: "http", host: "127.0.0.1", port: 8080) },
            verifier: ConnectionVerifier = ConnectionVerifier(),
            clientRateLimit: ClientRateLimiter.Settings? = nil,
            saveLanes: Int = 2,
            saveBatchWait: Duration = .microseconds(300),
            saveQueue: SaveQueueLimits = SaveQueueLimits(),
            eventRetention: Duration = .seconds(30 * 86_400),
            rowRetention: RowRetention.Settings = RowRetention.Settings(),
            maintenanceInterval: Duration = .seconds(3_600),
            feedPollInterval: Duration = .milliseconds(50),
            localChangeObserver: (@Sendable () -> Void)? = nil,
            webhookAllowPrivateAddresses: Bool = false,
            consoleAssets: ConsoleAssets? = nil,
            callHealthInterval: Duration = .seconds(5)
        ) {
            self.renderMetrics = renderMetrics
            self.openAPIDocument = openAPIDocument
            self.adminAuthenticator = adminAuthenticator
            self.publicConnection = publicConnection
            self.verifier = verifier
            self.clientRateLimit = clientRateLimit
            self.saveLanes = saveLanes
            self.saveBatchWait = saveBatchWait
            self.saveQueue = saveQueue
            self.eventRetention = eventRetention
            self.rowRetention = rowRetention
            self.maintenanceInterval = maintenanceInterval
            self.feedPollInterval = feedPollInterval
            self.localChangeObserver = localChangeObserver
            self.webhookAllowPrivateAddresses = webhookAllowPrivateAddresses
            self.consoleAssets = consoleAssets
            self.callHealthInterval = callHealthInterval
        }
    }

    /// See ``Configuration/saveQueue``.
    public struct SaveQueueLimits: Sendable {
        public var maxWaiting: Int
        /// nil: no limit.
        public var maxWait: Duration?

        public init(maxWaiting: Int = 128, maxWait: Duration? = .seconds(5)) {
            self.maxWaiting = maxWaiting
            self.maxWait = maxWait
        }
    }

    public let database: PostgresConnectionPool
    public let configuration: Configuration
    private let logger: Logger
    private let rateLimiter: ClientRateLimiter?
    private let changeWaiters: ChangeWaiters
    private let maintenance: MaintenanceLoop
    /// Shared by every `/v1` call, so a reader's uses are written at most once a minute per process.
    private let readerUse = ReaderUseRecorder()
    /// Each client's last successful and failed `/v1` call, written by `callHealth` in the background.
    private let callRecorder = ClientCallRecorder()
    private let callHealth: CallHealthFlusher

    public init(database: PostgresConnectionPool, configuration: Configuration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.rateLimiter = configuration.clientRateLimit.map { ClientRateLimiter(settings: $0) }
        self.changeWaiters = ChangeWaiters(
            database: database, pollInterval: configuration.feedPollInterval, onChange: configuration.localChangeObserver, logger: logger)
        self.maintenance = MaintenanceLoop(
            database: database,
            settings: MaintenanceLoop.Settings(
                eventRetention: configuration.eventRetention, rowRetention: configuration.rowRetention,
                interval: configuration.maintenanceInterval),
            logger: logger)
        self.callHealth = CallHealthFlusher(
            recorder: callRecorder, database: database, interval: configuration.callHealthInterval, logger: logger)
    }

    /// Starts the work `serve` does beside answering requests: the maintenance
    /// loop (statistics of growing tables, retention, the change feed's lag in `/metrics`).
    public func start() {
        maintenance.start()
        callHealth.start()
    }

    /// Answers the readers waiting on the change feed and stops the background
    /// work; call before the HTTP server's graceful shutdown.
    public func stop() {
        changeWaiters.stop()
        maintenance.stop()
        callHealth.stop()
    }

    /// The HTTP server's admission check (``HTTPServer/Admission/check``), when clients are
    /// rate limited: a `/v1` request whose Basic username names a client over its rate is
    /// answered `429` on the I/O thread, taking no worker and no place in the queue. Only
    /// authenticated requests spend tokens, so a caller without the password cannot use up
    /// a client's allowance; at most it is refused along with the client while that is over.
    public var admissionCheck: (@Sendable (Request) -> Response?)? {
        guard let rateLimiter else { return nil }
        return { request in
            guard request.path.hasPrefix("/v1/"),
                  let credentials = BasicCredentials.parse(request),
                  let clientId = ClientCredential.clientId(fromUsername: credentials.username),
                  case .limited(let seconds) = rateLimiter.peek(clientId)
            else { return nil }
            rateLimiter.countRefusal()
            return Problem.rateLimited(clientId: clientId, settings: rateLimiter.settings, retryAfterSeconds: seconds)
                .makeResponse()
        }
    }

    /// The answer to a request shed before any work (the HTTP server's admission
    /// control): `503` overloaded with `Retry-After`.
    public static var overloadResponse: Response { Problem.overloaded().makeResponse() }

    /// Every route the receiver serves.
    public func makeRouter() -> Router {
        var router = Router()
        OperationsRoutes(
            database: database, renderMetrics: configuration.renderMetrics,
            openAPIDocument: configuration.openAPIDocument
        ).register(in: &router)
        let endpoint = ConnectorEndpoint(
            database: database, rateLimiter: rateLimiter, saveLanes: configuration.saveLanes,
            saveBatchWait: configuration.saveBatchWait, saveQueue: configuration.saveQueue,
            logger: logger, changeWaiters: changeWaiters, readerUse: readerUse, callRecorder: callRecorder)
        LeadSourceRoutes(endpoint: endpoint).register(in: &router)
        PersonRoutes<Prospect>(endpoint: endpoint, collectionPath: "/v1/prospects").register(in: &router)
        ConvertRoute(endpoint: endpoint).register(in: &router)
        PersonRoutes<Member>(endpoint: endpoint, collectionPath: "/v1/members").register(in: &router)
        StaffRoutes(endpoint: endpoint).register(in: &router)
        ChangesRoute(endpoint: endpoint, waiters: changeWaiters).register(in: &router)
        AdminRoutes(
            database: database, authenticator: configuration.adminAuthenticator,
            defaultConnection: configuration.publicConnection, verifier: configuration.verifier,
            allowPrivateWebhookAddresses: configuration.webhookAllowPrivateAddresses, callRecorder: callRecorder
        ).register(in: &router)
        if let authenticator = configuration.adminAuthenticator {
            ConsoleRoutes(database: database, authenticator: authenticator, assets: configuration.consoleAssets).register(in: &router)
        }
        return router
    }
}
