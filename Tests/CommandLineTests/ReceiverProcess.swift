import Foundation
import OutboundHTTP
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `connector-receiver` executable that `swift build` put beside the test bundle.
enum Executable {
    static var path: String {
        get throws {
            if let explicit = ProcessInfo.processInfo.environment["RECEIVER_EXECUTABLE"] { return explicit }
            // The test bundle lives in the build products directory, beside the executable.
            let products = Bundle.main.bundleURL.path.hasSuffix(".xctest")
                ? Bundle.main.bundleURL.deletingLastPathComponent()
                : URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidate = products.appendingPathComponent("connector-receiver").path
            guard FileManager.default.isExecutableFile(atPath: candidate) else {
                throw TestSetupError(description: "connector-receiver not found at \(candidate): run `swift build` first, or set RECEIVER_EXECUTABLE.")
            }
            return candidate
        }
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Runs a command to completion; returns its status and combined output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// A `connector-receiver serve` process on 127.0.0.1 and a free port, with its log in a file.
final class ReceiverProcess {
    let process = Process()
    let logPath: String
    private(set) var port = 0

    init(arguments: [String] = [], environment: [String: String] = [:]) throws {
        logPath = "/tmp/cr-serve-\(UUID().uuidString.prefix(8)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try Executable.path)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
        var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if environment["DATABASE_URL"] == nil { merged["DATABASE_URL"] = nil }
        process.environment = merged
        process.currentDirectoryURL = URL(fileURLWithPath: Executable.repositoryRoot)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for the "listening on" line and reads the port from it.
    func waitUntilListening(timeout: Duration = .seconds(60)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = log.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last!)!
                return
            }
            guard process.isRunning else {
                throw TestSetupError(description: "serve exited with status \(process.terminationStatus):\n\(log)")
            }
            usleep(50_000)
        }
        throw TestSetupError(description: "serve did not start listening in time:\n\(log)")
    }

    func get(_ path: String) throws -> OutboundResponse {
        try OutboundHTTPClient.shared.send(OutboundRequest(url: "http://127.0.0.1:\(port)\(path)", totalTimeout: .seconds(10)))
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits until the process is gone or a zombie, without needing its status
    /// (after SIGKILL, Foundation may be slow to notice the exit).
    func waitUntilGone(timeout: Duration = .seconds(30)) throws {
        let pid = process.processIdentifier
        let deadline = ContinuousClock.now + timeout
        while kill(pid, 0) == 0 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if stat.contains(") Z") { return }
            guard ContinuousClock.now < deadline else {
                throw TestSetupError(description: "serve did not die in time")
            }
            usleep(20_000)
        }
    }

    /// Waits for the process to exit; returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestSetupError(description: "serve did not exit in time:\n\(log)")
            }
            usleep(20_000)
        }
        return process.terminationStatus
    }
}

extension OutboundHTTPClient {
    static let shared = OutboundHTTPClient(configuration: Configuration(maxIdleHandles: 0))
}
