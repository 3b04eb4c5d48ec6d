import Logging
import Postgres

/// Applies the pending migrations over a connection of its own.
enum MigrationRunner {
    static func run(databaseURL: String, directory: String, logger: Logger) throws {
        let configuration = try PostgresConfiguration(url: databaseURL)
        let connection = try PostgresConnection.connect(configuration, logger: logger)
        defer { connection.close() }
        let migrator = Migrator(directoryPath: directory, logger: logger)
        // The migrator logs each migration it applies.
        if try migrator.migrate(on: connection).isEmpty {
            logger.info("database schema is up to date", metadata: ["migrations": "\(directory)"])
        }
    }
}
