import Foundation
import OutboundHTTP
import Testing

/// Certificate verification against a real TLS server on loopback: `openssl s_server -www`
/// with a throwaway self-signed certificate for IP 127.0.0.1 (and no other name).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: TLSTestServer.openssl)))
final class TLSVerificationTests: Sendable {
    let server: TLSTestServer

    init() async throws {
        server = try await TLSTestServer.start()
    }

    deinit { server.stop() }

    @Test func untrustedCertificateIsRejected() async throws {
        let client = OutboundHTTPClient()
        let outcome = await client.sendOffPool(OutboundRequest(url: "https://127.0.0.1:\(server.port)/"))
        let error = try #require(outcome.error)
        #expect(error.kind == .tlsCertificate)
        #expect(error.curlCode == 60)
        #expect(error.message.contains("TLS certificate of 127.0.0.1:\(server.port) was rejected"))
        #expect(!error.curlErrorText.isEmpty)
    }

    @Test func trustedThroughTheConfiguredCABundle() async throws {
        let client = OutboundHTTPClient(configuration: .init(caBundlePath: server.certificatePath))
        let outcome = await client.sendOffPool(OutboundRequest(url: "https://127.0.0.1:\(server.port)/"))
        let response = try #require(outcome.response, "\(String(describing: outcome.error))")
        #expect(response.status == 200)
        #expect(response.timings.tlsHandshake > .zero)
    }

    @Test func certificateForAnotherNameIsRejected() async throws {
        // Trusted issuer, wrong name: proves host-name verification (VERIFYHOST=2) is on.
        let client = OutboundHTTPClient(configuration: .init(caBundlePath: server.certificatePath))
        let outcome = await client.sendOffPool(OutboundRequest(url: "https://localhost:\(server.port)/"))
        let error = try #require(outcome.error)
        #expect(error.kind == .tlsCertificate)
        #expect(error.message.contains("does the certificate cover \"localhost\""))
    }

    @Test func unreadableCABundleIsReported() async throws {
        let client = OutboundHTTPClient(configuration: .init(caBundlePath: server.directory + "/missing.pem"))
        let outcome = await client.sendOffPool(OutboundRequest(url: "https://127.0.0.1:\(server.port)/"))
        let error = try #require(outcome.error)
        #expect(error.kind == .tlsCertificate)
        #expect(error.message.contains("missing.pem"))
    }

    // The multi client prepares its transfers the same way; the same checks hold.
    @Test func multiClientVerifiesCertificatesToo() async throws {
        let strict = try OutboundHTTPMultiClient()
        defer { strict.close() }
        do {
            _ = try await strict.send(OutboundRequest(url: "https://127.0.0.1:\(server.port)/"))
            Issue.record("an untrusted certificate was accepted")
        } catch {
            #expect(error.kind == .tlsCertificate)
            #expect(error.curlCode == 60)
        }

        let trusting = try OutboundHTTPMultiClient(configuration: .init(requests: .init(caBundlePath: server.certificatePath)))
        defer { trusting.close() }
        let response = try await trusting.send(OutboundRequest(url: "https://127.0.0.1:\(server.port)/"))
        #expect(response.status == 200)
        #expect(response.timings.tlsHandshake > .zero)
    }
}

/// An `openssl s_server` child process. Started and stopped by the tests, by its own handle.
final class TLSTestServer: Sendable {
    static let openssl = "/usr/bin/openssl"

    let directory: String
    let port: Int
    private let process: Process  // after start, only isRunning, processIdentifier and waitUntilExit()

    var certificatePath: String { directory + "/cert.pem" }

    private init(directory: String, port: Int, process: Process) {
        self.directory = directory
        self.port = port
        self.process = process
    }

    struct StartFailure: Error, CustomStringConvertible { var description: String }

    static func start() async throws -> TLSTestServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("outbound-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: openssl)
        generate.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        generate.standardOutput = FileHandle.nullDevice
        generate.standardError = FileHandle.nullDevice
        try generate.run()
        await onWorkerThread { generate.waitUntilExit() }
        guard generate.terminationStatus == 0 else { throw StartFailure(description: "openssl req failed") }

        // A port the kernel just handed out and took back; s_server's own announcement of the
        // port it picked is stuck in stdio buffering when stdout is a pipe.
        let port = try LoopbackHTTPServer.closedPort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: openssl)
        server.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-www", "-quiet",
            "-cert", directory + "/cert.pem", "-key", directory + "/key.pem",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()

        let listening = await onWorkerThread { () -> Bool in
            for _ in 0..<150 {  // up to 3 s
                if !server.isRunning { return false }
                if canConnect(port: port) { return true }
                usleep(20_000)
            }
            return false
        }
        guard listening else {
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
            throw StartFailure(description: "openssl s_server did not start listening on 127.0.0.1:\(port)")
        }
        return TLSTestServer(directory: directory, port: port, process: server)
    }

    func stop() {
        // SIGKILL, to this child's own pid: s_server may have inherited SIGTERM blocked.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
private func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
