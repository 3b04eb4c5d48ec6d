import Logging

/// Placeholder until the Postgres module's Migrator lands.
enum MigrationRunner {
    static func run(databaseURL: String, directory: String, logger: Logger) throws {
        logger.info("migrations", metadata: ["directory": "\(directory)"])
    }
}
