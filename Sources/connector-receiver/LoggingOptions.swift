import ArgumentParser
import Logging

/// Log level for the process; logs go to standard error.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Log level: trace, debug, info, notice, warning, error, critical. (env: RECEIVER_LOG_LEVEL, default info)",
        valueName: "level"))
    var logLevel: String?

    /// - Parameter defaultLevel: without --log-level or RECEIVER_LOG_LEVEL
    ///   (`turnup` keeps its output to what it prints: warnings and up).
    func bootstrap(defaultLevel: String = "info") throws -> Logger {
        let name = logLevel ?? Environment.value("RECEIVER_LOG_LEVEL") ?? defaultLevel
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw ValidationError("Unknown log level '\(name)': use trace, debug, info, notice, warning, error or critical.")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "connector-receiver")
    }
}
