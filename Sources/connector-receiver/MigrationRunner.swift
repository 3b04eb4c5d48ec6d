import Logging
import Postgres

/// Applies the pending migrations over a connection of its own.
enum MigrationRunner {
    static func run(_ database: DatabaseHandle, directory: String, logger: Logger) throws {
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(try database.configuration(), logger: logger)
        } catch let error as PostgresError where database.poolMode == .session && error.message.contains("unsupported startup parameter") {
            // PgBouncer in transaction mode refuses the `options` startup parameter.
            var hinted = error
            hinted.message += " (the database URL seems to be PgBouncer: with pool_mode = transaction, set RECEIVER_DATABASE_POOL_MODE=transaction or --database-pool-mode transaction)"
            throw hinted
        }
        defer { connection.close() }
        let migrator = Migrator(directoryPath: directory, logger: logger)
        // The migrator logs each migration it applies.
        if try migrator.migrate(on: connection).isEmpty {
            logger.info("database schema is up to date", metadata: ["migrations": "\(directory)"])
        }
    }
}
