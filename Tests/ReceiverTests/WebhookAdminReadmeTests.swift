import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OutboundHTTP
import Synchronization
import TestSupport
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The README's receiving examples, run as written: its Python endpoint (the official
/// `standardwebhooks` library) and its by-hand check receive real deliveries of an endpoint
/// added through the admin API, and refuse a forged one.
@Suite struct WebhookAdminReadmeTests {
    /// The section's ```python blocks: the receiving endpoint, then the by-hand check.
    static func pythonBlocks() throws -> [String] {
        let readme = try String(contentsOfFile: TestDatabase.migrationsDirectory + "/../README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n## Webhooks\n") else { throw TestSetupError(description: "README has no ## Webhooks section") }
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        return section[..<end].components(separatedBy: "```python\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    /// The receiving endpoint on `port`, also checking each delivery with the by-hand function.
    static func receiverScript(port: Int) throws -> String {
        let blocks = try pythonBlocks()
        try #require(blocks.count == 2, "the Webhooks section has the endpoint and the by-hand check")
        let listen = #"HTTPServer(("127.0.0.1", 9000), Receiver)"#
        let handled = #"        print(event["type"]"#
        try #require(blocks[0].contains(listen) && blocks[0].contains(handled), "the endpoint listens and prints as the test expects")
        let byHand = "        assert verified(os.environ[\"WEBHOOK_SECRET\"], {name: self.headers[name] for name in "
            + "(\"webhook-id\", \"webhook-timestamp\", \"webhook-signature\")}, body), \"the by-hand check refused it\"\n"
        let endpoint = blocks[0]
            .replacingOccurrences(of: listen, with: #"HTTPServer(("127.0.0.1", \#(port)), Receiver)"#)
            .replacingOccurrences(of: handled, with: byHand + handled)
        return "import sys\nsys.stdout.reconfigure(line_buffering=True)\n" + blocks[1] + "\n" + endpoint
    }

    @Test(.enabled(if: PythonVerifier.python3 != nil, "python3 is not installed"))
    func theReadmesPythonEndpointVerifiesRealDeliveriesAndRefusesAForgedOne() throws {
        try WebhookAdminTests.run { server in
            let (_, connector) = try server.adminTurnUp("acme")
            let port = try freePort()
            let (id, secret) = try WebhookAdminTests.create(server, "acme", #"{"url": "http://127.0.0.1:\#(port)/hooks/receiver"}"#)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(PythonVerifier.python3))
            process.arguments = ["-c", try Self.receiverScript(port: port)]
            process.environment = ProcessInfo.processInfo.environment.merging(["WEBHOOK_SECRET": secret]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            let printed = Mutex("")
            output.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                printed.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            try process.run()
            defer {
                // SIGKILL: the child inherits the test process's blocked SIGTERM (the servers block it).
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                output.fileHandleForReading.readabilityHandler = nil
            }
            func waitFor(_ text: String) -> Bool {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline && process.isRunning {
                    if printed.withLock({ $0.contains(text) }) { return true }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                return printed.withLock { $0.contains(text) }
            }

            // Listening once any answer comes (http.server answers a GET 501).
            let listening = ContinuousClock.now + .seconds(30)
            while (try? TestServer.client.send(OutboundRequest(method: "GET", url: "http://127.0.0.1:\(port)/", totalTimeout: .seconds(2)))) == nil {
                try #require(ContinuousClock.now < listening && process.isRunning, "the README's endpoint did not start: \(printed.withLock { $0 })")
                Thread.sleep(forTimeInterval: 0.05)
            }

            try WebhookDeliveryEngineTests.withEngine(server) { _ in
                try WebhookDeliveryEngineTests.save(server, connector, "crm-1")
                try WebhookDeliveryEngineTests.save(server, connector, "crm-1", #"{"clubId": "club-1", "firstName": "Ada", "lastName": "Byron"}"#)
                let prospect = try #require(try server.request("GET", "/v1/prospects?externalId=crm-1", auth: connector).itemValues("id").first?.stringValue)
                #expect(waitFor("prospect.created \(prospect) version 1"), "\(printed.withLock { $0 })")
                #expect(waitFor("prospect.updated \(prospect) version 2"), "\(printed.withLock { $0 })")
                let log = try WebhookAdminDeliveryTests.waitForLog(server, id) { $0.itemValues("status") == [.number(204), .number(204)] }
                #expect(log.itemValues("status") == [.number(204), .number(204)], "the endpoint answered 204 to both: \(log)")
            }

            let body = Array(#"{"id":"evt_forged","type":"prospect.created"}"#.utf8)
            let now = Int64(Date().timeIntervalSince1970)
            let forged = WebhookSignature.headers(id: "evt_forged", timestamp: now, body: body, secrets: [WebhookSecret.generate()])
            let refused = try TestServer.client.send(OutboundRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/hooks/receiver",
                headers: [("Content-Type", "application/json")] + forged, body: body, totalTimeout: .seconds(10)))
            #expect(refused.status == 401, "a signature by another secret is refused")
            #expect(!printed.withLock { $0.contains("evt_forged") })
            #expect(!printed.withLock { $0.contains("Traceback") }, "\(printed.withLock { $0 })")
        }
    }
}
