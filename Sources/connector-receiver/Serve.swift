import ArgumentParser
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate the database if needed, then serve HTTP until SIGINT or SIGTERM.",
        discussion: """
            On SIGINT or SIGTERM the server stops accepting connections, finishes the requests \
            in flight (bounded by --shutdown-grace), stops the embedded cluster if it runs one, \
            and exits 0. A second signal exits at once.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Address to listen on. (env: RECEIVER_HOST)", valueName: "address"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("TCP port to listen on; 0 picks a free one. (env: RECEIVER_PORT)", valueName: "port"))
    var port: Int?

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        ShutdownSignals.install()
        let logger = try logging.bootstrap()
        let migrations = try database.resolvedMigrationsDirectory()
        let handle = try database.open(logger: logger)
        defer { handle.close() }
        try MigrationRunner.run(databaseURL: handle.url, directory: migrations, logger: logger)

        let signal = ShutdownSignals.wait()
        logger.notice("received \(ShutdownSignals.name(signal)), shutting down")
    }
}
