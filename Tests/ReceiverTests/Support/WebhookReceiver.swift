import Foundation
import HTTPServer
import HTTPTypes
import Synchronization
import TestSupport
@testable import ReceiverCore

/// A webhook endpoint for the engine's tests: a real HTTP server on 127.0.0.1 that keeps every
/// POST it gets and answers as `respond` says (204 by default).
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let path: String
        let webhookId: String
        let timestamp: Int64
        let signature: String
        let body: [UInt8]
        let contentType: String?
        let at: ContinuousClock.Instant

        var json: JSONObject? { (try? JSONParser.parse(body))?.objectValue }
        /// `data.id` and `data.version` of the event.
        var record: (id: String, version: Int)? {
            guard let data = json?["data"]?.objectValue, let id = data["id"]?.stringValue,
                  case .number(let version)? = data["version"] else { return nil }
            return (id, Int(version))
        }
    }

    /// The status and header fields to answer a delivery with.
    typealias Respond = @Sendable (Delivery, _ earlierOfSameId: Int) -> (Int, [(String, String)])

    private final class State: Sendable {
        let mutex = Mutex<(received: [Delivery], respond: Respond)>(([], { _, _ in (204, []) }))
    }
    private let shared = State()
    private let server: HTTPServer
    let port: Int

    init() throws {
        var router = Router()
        let shared = self.shared
        router.post("/{name}") { request, _ in
            let delivery = Delivery(
                path: request.path, webhookId: request.headerFields[HTTPField.Name("webhook-id")!] ?? "",
                timestamp: Int64(request.headerFields[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0,
                signature: request.headerFields[HTTPField.Name("webhook-signature")!] ?? "",
                body: request.body, contentType: request.headerFields[.contentType], at: .now)
            let (status, fields) = shared.mutex.withLock { state in
                let earlier = state.received.filter { $0.webhookId == delivery.webhookId }.count
                state.received.append(delivery)
                return state.respond(delivery, earlier)
            }
            var headers = HTTPFields()
            for (name, value) in fields { headers[HTTPField.Name(name)!] = value }
            return Response(status: HTTPResponse.Status(code: status), headerFields: headers)
        }
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, ioThreads: 1, workerThreads: 8)
        configuration.accessLog = false
        configuration.metrics = false
        server = try HTTPServer(configuration: configuration, router: router, logger: TestDatabase.logger)
        try server.start()
        port = server.boundPort ?? 0
    }

    deinit { server.shutdown(gracePeriod: .seconds(1)) }

    func url(_ name: String = "hook") -> String { "http://127.0.0.1:\(port)/\(name)" }

    func respond(_ respond: @escaping Respond) { shared.mutex.withLock { $0.respond = respond } }

    var received: [Delivery] { shared.mutex.withLock { $0.received } }

    /// The deliveries POSTed to `/<name>`.
    func received(at name: String) -> [Delivery] { received.filter { $0.path == "/\(name)" } }

    /// Waits until `condition` holds of what was received, or `timeout` passes; whether it held.
    @discardableResult
    func wait(timeout: Duration = .seconds(30), until condition: ([Delivery]) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(received) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition(received)
    }
}
