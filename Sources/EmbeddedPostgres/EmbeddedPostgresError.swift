#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the embedded PostgreSQL cluster could not be set up, started or stopped.
/// Each message says what to do about it.
public enum EmbeddedPostgresError: Error, CustomStringConvertible, Equatable {
    case binariesNotFound(searched: [String])
    case socketPathTooLong(path: String, limit: Int)
    case clusterUserMissing(String)
    case dataDirectoryUnreachable(path: String, user: String)
    case dataDirectoryInUse(path: String, holder: String)
    case relocationTaken(path: String, owner: String, dataDirectory: String)
    case fileSystem(operation: String, path: String, errno: Int32)
    case spawnFailed(String, errno: Int32)
    case commandFailed(command: String, status: Int32, output: String)
    case serverExited(status: Int32, logTail: String, logPath: String)
    case startTimedOut(seconds: Int, logTail: String, logPath: String)
    case databaseCreationFailed(String)

    var isDataDirectoryInUse: Bool {
        if case .dataDirectoryInUse = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .binariesNotFound(let searched):
            return """
                PostgreSQL server binaries (initdb, postgres, pg_ctl) were not found \
                (looked in \(searched.joined(separator: ", "))). \
                Install them with `apt-get install -y postgresql` (or run `make run`, which does), \
                or set DATABASE_URL to use an existing server.
                """
        case .socketPathTooLong(let path, let limit):
            return """
                The data directory path is too long for PostgreSQL's Unix socket \
                (\(path) is more than \(limit) bytes). Use a shorter --data-dir.
                """
        case .clusterUserMissing(let user):
            return """
                PostgreSQL refuses to run as root, and the system user '\(user)' that should run the \
                embedded cluster does not exist. Install PostgreSQL (`apt-get install -y postgresql` \
                creates it), or run connector-receiver as an unprivileged user.
                """
        case .dataDirectoryUnreachable(let path, let user):
            return """
                The embedded cluster runs as the system user '\(user)', which cannot write in \(path) \
                (a parent directory is not searchable by it, or the file system refuses it). \
                Make it reachable (chmod o+x on the parents), or choose another --data-dir.
                """
        case .relocationTaken(let path, let owner, let dataDirectory):
            return """
                The cluster of \(dataDirectory) should go to \(path), but that directory holds the \
                cluster of \(owner) (its data-dir file says so). Use another --data-dir, or delete \
                \(path) if \(owner) is no longer used.
                """
        case .dataDirectoryInUse(let path, let holder):
            return """
                The data directory \(path) is in use by another connector-receiver process (\(holder)). \
                Stop that process, or use another --data-dir.
                """
        case .fileSystem(let operation, let path, let code):
            return "Could not \(operation) \(path): \(String(cString: strerror(code)))."
        case .spawnFailed(let command, let code):
            return "Could not start \(command): \(String(cString: strerror(code)))."
        case .commandFailed(let command, let status, let output):
            return "\(command) failed with exit status \(status):\n\(output)"
        case .serverExited(let status, let logTail, let logPath):
            return "The embedded PostgreSQL server exited during start-up (status \(status)). Its log (\(logPath)) ends with:\n\(logTail)"
        case .startTimedOut(let seconds, let logTail, let logPath):
            return "The embedded PostgreSQL server did not accept connections within \(seconds) s. Its log (\(logPath)) ends with:\n\(logTail)"
        case .databaseCreationFailed(let message):
            return "Could not create the receiver's database in the embedded cluster: \(message)"
        }
    }
}
