import ArgumentParser
import Logging

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the pending SQL migrations and exit.",
        discussion: """
            Applies the numbered files of the migrations directory (0001_name.sql, …) in order, \
            each in its own transaction, and records them with a checksum. An applied migration \
            whose file has changed is an error naming the file. Two processes migrating at once \
            take turns (PostgreSQL advisory lock). `serve` migrates on start-up too.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        ShutdownSignals.install()
        let logger = try logging.bootstrap()
        let migrations = try database.resolvedMigrationsDirectory()
        let handle = try database.open(logger: logger, attachToRunning: true)
        defer { handle.close() }
        try MigrationRunner.run(handle, directory: migrations, logger: logger)
    }
}
