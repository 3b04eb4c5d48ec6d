#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Logging
import Postgres
import ReceiverCore
import ReceiverHTTP

/// One `turnup` command's database session: the database opened (beside a
/// running `serve` if there is one), migrated, and one connection to work on.
struct TurnupSession {
    let connection: PostgresConnection
    /// `cli:<unix user>`: who the audit trail says made the changes.
    let audit: AuditContext

    /// Runs `body` in a session; a `ReceiverError` it throws becomes a `TurnupError`
    /// whose message says what to do (`hint` may word it for the command).
    static func run<Result>(
        _ options: TurnupOptions, hint: (ReceiverError) -> String? = { _ in nil }, _ body: (TurnupSession) throws -> Result
    ) throws -> Result {
        // verify writes to sockets through libcurl; a peer that hangs up must not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let logger = try options.logging.bootstrap(defaultLevel: "warning")
        let migrations = try options.database.resolvedMigrationsDirectory()
        let handle = try options.database.open(logger: logger, attachToRunning: true)
        defer { handle.close() }
        try MigrationRunner.run(handle, directory: migrations, logger: logger)
        let connection = try PostgresConnection.connect(try handle.configuration(), logger: logger)
        defer { connection.close() }
        do {
            return try body(TurnupSession(connection: connection, audit: AuditContext(actor: "cli:\(unixUser())")))
        } catch let error as ReceiverError {
            throw TurnupError(hint(error) ?? TurnupError.describe(error))
        }
    }

    /// The name of the effective user, else `$USER`, else the uid.
    static func unixUser() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid-\(geteuid())"
    }
}

/// A failure of a `turnup` command, worded for the operator (ArgumentParser
/// prints it as `Error: …` and exits 1).
struct TurnupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// An error as the operator reads it: each invalid field named as the
    /// command's option where there is one, else what went wrong.
    static func describe(_ error: ReceiverError) -> String {
        switch error {
        case .invalid(let errors):
            let lines = errors.map { "  \(optionName(for: $0.field)): \($0.message)" }
            return "invalid input:\n" + lines.joined(separator: "\n")
        case .notFound(let detail) where detail.hasPrefix("No client "):
            return detail + " List the clients with `connector-receiver turnup list`."
        case .conflict(let detail, _):
            return detail
        case .databaseUnavailable:
            return "The database is unavailable; nothing was written. Check that it is running, then retry."
        case .outcomeUnknown:
            return "The database connection was lost while committing; whether the change took effect is unknown. Check with `connector-receiver turnup show`, then retry."
        default:
            return error.description
        }
    }

    /// The command-line spelling of a body field: `clubs[1].clubId` → `--club #2 (id)`.
    static func optionName(for field: String) -> String {
        if field.hasPrefix("clubs["), let close = field.firstIndex(of: "]"),
           let index = Int(field[field.index(field.startIndex, offsetBy: 6)..<close]) {
            let member = field[field.index(after: close)...].drop { $0 == "." }
            return "--club #\(index + 1)" + (member.isEmpty ? "" : " (\(member == "clubId" ? "club ID" : String(member)))")
        }
        if field.hasPrefix("options.") { return "--option \(field.dropFirst("options.".count))" }
        if field.hasPrefix("connection") { return "--connection" }
        switch field {
        case "clientId": return "client ID"
        case "clubId": return "club ID"
        case "name": return "--name"
        case "clubs": return "--club"
        case "firstName": return "--first-name"
        case "lastName": return "--last-name"
        case "role": return "--role"
        case "clubIds": return "--club"
        default: return field
        }
    }
}

/// Readable output on standard output.
enum TurnupPrint {
    static func json(_ object: JSONObject) {
        print(String(decoding: JSONWriter.serialize(.object(object)), as: UTF8.self))
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// `2026-11-25 10:00:00Z`, to the second.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date).replacingOccurrences(of: "T", with: " ")
    }
}

/// `name=value` pairs of `--club` and `--option`.
enum KeyValue {
    static func split(_ text: String, option: String, example: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "=") else {
            throw TurnupError("\(option) \(text): write it as \(example).")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// An option's value as JSON: true/false, null, a number, else a string.
    static func jsonValue(_ text: String) -> JSONValue {
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: return Double(text).map(JSONValue.number) ?? .string(text)
        }
    }
}
