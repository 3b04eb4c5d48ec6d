import Logging
import Synchronization

/// Log records kept in memory, so a test can read everything the code under test logged:
/// as records (``entries``, ``messages(at:)``) or as rendered lines (``all``).
public final class LogCapture: Sendable {
    /// One log record, its metadata (the logger's and the call's) rendered as strings.
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let label: String
        public let message: String
        public let metadata: [String: String]
        /// The error passed to the call, if any, as `String(reflecting:)` renders it.
        public let error: String?
        public let source: String

        /// `level label message key=value… [error=…] [source]`, metadata sorted by key.
        public var line: String {
            let rendered = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = self.error.map { " error=\($0)" } ?? ""
            return "\(level) \(label) \(message) \(rendered)\(error) [\(source)]"
        }
    }

    private let storage = Mutex<[Entry]>([])

    public init() {}

    /// Every record so far, in order.
    public var entries: [Entry] { storage.withLock { $0 } }

    /// Every record so far, rendered as ``Entry/line``.
    public var all: [String] { entries.map(\.line) }

    /// The records at `level`.
    public func messages(at level: Logger.Level) -> [Entry] { entries.filter { $0.level == level } }

    public func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }

    /// A logger writing here, at `level` (everything by default).
    public func logger(label: String = "capture", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { label in CapturingLogHandler(label: label, capture: self) }
        logger.logLevel = level
        return logger
    }
}

/// The log handler behind ``LogCapture/logger(label:level:)``.
public struct CapturingLogHandler: LogHandler {
    public let label: String
    public let capture: LogCapture
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(label: String, capture: LogCapture) {
        self.label = label
        self.capture = capture
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (key, value) in metadata { merged[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { merged[key] = "\(value)" }
        capture.append(LogCapture.Entry(
            level: event.level, label: label, message: "\(event.message)", metadata: merged,
            error: event.error.map { String(reflecting: $0) }, source: event.source))
    }
}
