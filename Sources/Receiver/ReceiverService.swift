import HTTPServer
import Logging
import Postgres

/// The receiver's routes over one database pool: what `serve` runs.
public final class ReceiverService: Sendable {
    public struct Configuration: Sendable {
        /// Renders the Prometheus text exposition for `/metrics`.
        public var renderMetrics: @Sendable () -> [UInt8]
        /// The OpenAPI document served at `/openapi.yaml`, if found.
        public var openAPIDocument: [UInt8]?

        public init(renderMetrics: @escaping @Sendable () -> [UInt8] = { [] }, openAPIDocument: [UInt8]? = nil) {
            self.renderMetrics = renderMetrics
            self.openAPIDocument = openAPIDocument
        }
    }

    public let database: PostgresConnectionPool
    public let configuration: Configuration
    private let logger: Logger

    public init(database: PostgresConnectionPool, configuration: Configuration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// Every route the receiver serves.
    public func makeRouter() -> Router {
        var router = Router()
        OperationsRoutes(
            database: database, renderMetrics: configuration.renderMetrics,
            openAPIDocument: configuration.openAPIDocument
        ).register(in: &router)
        let endpoint = ConnectorEndpoint(database: database)
        LeadSourceRoutes(endpoint: endpoint).register(in: &router)
        PersonRoutes<Prospect>(endpoint: endpoint).register(in: &router)
        ConvertRoute(endpoint: endpoint).register(in: &router)
        PersonRoutes<Member>(endpoint: endpoint).register(in: &router)
        StaffRoutes(endpoint: endpoint).register(in: &router)
        return router
    }
}
