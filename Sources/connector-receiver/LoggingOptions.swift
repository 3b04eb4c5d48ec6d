import ArgumentParser
import Foundation
import HTTPServer
import Logging
import ReceiverCore
import ReceiverHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Log level and format for the process; logs go to standard error.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Log level: trace, debug, info, notice, warning, error, critical. (env: RECEIVER_LOG_LEVEL, default info)",
        valueName: "level"))
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp(
        "Log format: text (one readable line per event) or json (one JSON object per line: timestamp, level, label, message, metadata). (env: RECEIVER_LOG_FORMAT, default text)",
        valueName: "text|json"))
    var logFormat: String?

    /// - Parameter defaultLevel: without --log-level or RECEIVER_LOG_LEVEL
    ///   (`turnup` keeps its output to what it prints: warnings and up).
    func bootstrap(defaultLevel: String = "info") throws -> Logger {
        let name = logLevel ?? Environment.value("RECEIVER_LOG_LEVEL") ?? defaultLevel
        guard let level = Logger.Level(rawValue: name.lowercased()) else {
            throw ValidationError("Unknown log level '\(name)': use trace, debug, info, notice, warning, error or critical.")
        }
        let format = logFormat ?? Environment.value("RECEIVER_LOG_FORMAT") ?? "text"
        switch format.lowercased() {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, logLevel: level) }
        default:
            throw ValidationError("Unknown log format '\(format)': use text or json.")
        }
        return Logger(label: "connector-receiver")
    }

    /// The writer of the access log for `serve`: lines in the log's format on standard
    /// error, like every other line, but formatted on the I/O threads and written in
    /// batches by a thread of their own (``AccessLogWriter``). nil when the log level
    /// leaves out info, the access log's level. Call after ``bootstrap(defaultLevel:)``.
    func accessLogWriter(logger: Logger) throws -> AccessLogWriter? {
        guard logger.logLevel <= .info else { return nil }
        let format: AccessLogFormat =
            (logFormat ?? Environment.value("RECEIVER_LOG_FORMAT") ?? "text").lowercased() == "json" ? .json : .text
        return try AccessLogWriter(fd: 2, format: format, label: logger.label, logger: logger)
    }
}

/// Writes each event as one JSON object on one line of standard error, for log
/// collectors (Docker's json-file, journald, Loki, CloudWatch…):
///
/// ```
/// {"timestamp":"2024-05-01T10:00:00.123456Z","level":"info","label":"connector-receiver","message":"request","metadata":{"method":"GET","status":200}}
/// ```
///
/// `metadata` is present when there is some, keys sorted (and `error` when the event
/// carries one); integers and booleans stay
/// numbers and booleans, every other value is a string (nested dictionaries and
/// arrays keep their shape). Each line goes out in a single `write(2)`, so lines of
/// concurrent threads never interleave.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        Self.emit(Self.line(
            timestamp: Timestamp.format(Date()), level: event.level, label: label, message: event.message.description,
            metadata: merged, error: event.error.map { String(describing: $0) }))
    }

    /// The event as one line of JSON, newline included.
    static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, error: String? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count)
        out.append(contentsOf: #"{"timestamp":""#.utf8)
        out.append(contentsOf: timestamp.utf8)
        out.append(contentsOf: #"","level":""#.utf8)
        out.append(contentsOf: level.rawValue.utf8)
        out.append(contentsOf: #"","label":"#.utf8)
        JSONString.append(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONString.append(message, to: &out)
        if !metadata.isEmpty {
            out.append(contentsOf: #","metadata":"#.utf8)
            appendValue(.dictionary(metadata), to: &out)
        }
        if let error {
            out.append(contentsOf: #","error":"#.utf8)
            JSONString.append(error, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONString.append(text, to: &out)
        case .stringConvertible(let convertible):
            if convertible is any BinaryInteger || convertible is Bool {
                out.append(contentsOf: convertible.description.utf8)
            } else {
                JSONString.append(convertible.description, to: &out)
            }
        case .dictionary(let dictionary):
            out.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendValue(dictionary[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    /// One `write(2)` for the whole line (a partial write goes on with the rest); a
    /// log line that cannot be written is dropped.
    private static func emit(_ bytes: [UInt8]) {
        DescriptorOutput.write(bytes, to: 2)
    }
}
