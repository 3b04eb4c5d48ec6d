import Foundation
import OutboundHTTP

/// One step of a verification: what was called, whether the answer is the one
/// the Connector needs, and how long it took.
public struct VerifyStep: Sendable, Equatable {
    /// `healthz`, `unauthenticated` or `authenticated`.
    public var name: String
    public var ok: Bool
    /// The HTTP status received; nil when no response came (DNS, TCP, TLS, timeout).
    public var status: Int?
    public var latencyMs: Double
    /// What happened, for a person. Never contains the password.
    public var detail: String

    /// The `VerifyStep` schema of openapi.yaml.
    public var json: JSONObject {
        [
            "name": .string(name),
            "ok": .bool(ok),
            "status": status.map { .number(Double($0)) } ?? .null,
            "latencyMs": .number((latencyMs * 10).rounded() / 10),
            "detail": .string(detail),
        ]
    }
}

/// Calls a client's `connection` the way the Connector does, over libcurl:
/// `GET /healthz` answered 200; `GET /v1/lead-sources?limit=1` without
/// credentials answered 401; with a password, the same call with the client's
/// username and that password answered 200.
///
/// `verify` blocks its thread for up to `totalTimeout` (the whole verification,
/// not each step): call it from a request handler's worker thread or the
/// command line, never from Swift's cooperative pool. It holds no database
/// connection while it waits, so verifying a receiver against itself cannot
/// starve the pool the authenticated step needs.
public struct ConnectionVerifier: Sendable {
    public let client: OutboundHTTPClient
    /// For the TCP connection and TLS handshake of each step.
    public var connectTimeout: Duration
    /// For the whole verification; steps left when it runs out are reported as not run.
    public var totalTimeout: Duration

    public init(client: OutboundHTTPClient = ConnectionVerifier.sharedClient,
                connectTimeout: Duration = .seconds(3), totalTimeout: Duration = .seconds(10)) {
        self.client = client
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }

    /// No idle handles: every verification opens fresh connections, so a step's
    /// latency includes connecting, as the Connector's first call would.
    public static let sharedClient = OutboundHTTPClient(configuration: OutboundHTTPClient.Configuration(maxIdleHandles: 0))

    package static let probePath = "/v1/lead-sources?limit=1"

    /// Runs the steps in order: `healthz`, `unauthenticated`, and `authenticated`
    /// when `password` is given. When `/healthz` gets no response at all, the
    /// later steps are reported as not run rather than waiting out the same
    /// failure again.
    public func verify(_ connection: ClientConnection, username: String, password: String?) -> [VerifyStep] {
        let base = connection.baseURL
        let deadline = ContinuousClock.now + totalTimeout
        var steps: [VerifyStep] = []

        let (healthz, reachable) = step("healthz", url: base + "/healthz", auth: nil, deadline: deadline) { status in
            status == 200
                ? (true, "GET \(base)/healthz answered 200")
                : (false, "GET \(base)/healthz answered \(status), expected 200: something other than a connector-receiver answers at \(base), or it is unwell")
        }
        steps.append(healthz)

        var remaining: [(name: String, auth: OutboundRequest.BasicAuth?)] = [("unauthenticated", nil)]
        if let password { remaining.append(("authenticated", OutboundRequest.BasicAuth(username: username, password: password))) }
        for (name, auth) in remaining {
            guard reachable else {
                steps.append(VerifyStep(name: name, ok: false, status: nil, latencyMs: 0,
                                        detail: "Not run: \(base) did not answer the healthz step."))
                continue
            }
            let (result, _) = step(name, url: base + Self.probePath, auth: auth, deadline: deadline) { status in
                auth == nil ? Self.judgeUnauthenticated(status) : Self.judgeAuthenticated(status, username: username)
            }
            steps.append(result)
        }
        return steps
    }

    /// Sends one GET; `judge` turns its status into (ok, detail). Also returns
    /// whether any HTTP response came back.
    private func step(
        _ name: String, url: String, auth: OutboundRequest.BasicAuth?, deadline: ContinuousClock.Instant,
        judge: (Int) -> (Bool, String)
    ) -> (VerifyStep, Bool) {
        let left = deadline - ContinuousClock.now
        guard left > .milliseconds(50) else {
            return (VerifyStep(name: name, ok: false, status: nil, latencyMs: 0,
                               detail: "Not run: the verification used up its \(totalTimeout) budget."), false)
        }
        let request = OutboundRequest(
            method: "GET", url: url, headers: [("Accept", "application/json")], basicAuth: auth,
            connectTimeout: min(connectTimeout, left), totalTimeout: left, freshConnection: true)
        let start = ContinuousClock.now
        do {
            let response = try client.send(request)
            let latency = Self.milliseconds(ContinuousClock.now - start)
            var (ok, detail) = judge(response.status)
            if (300..<400).contains(response.status), let location = response.header("Location") {
                detail += " (a redirect to \(location): the Connector does not follow redirects; put the final address in connection)"
                ok = false
            }
            return (VerifyStep(name: name, ok: ok, status: response.status, latencyMs: latency, detail: detail), true)
        } catch {
            let latency = Self.milliseconds(ContinuousClock.now - start)
            return (VerifyStep(name: name, ok: false, status: nil, latencyMs: latency,
                               detail: "GET \(url) got no response: \(error.message)"), false)
        }
    }

    package static func judgeUnauthenticated(_ status: Int) -> (Bool, String) {
        switch status {
        case 401:
            return (true, "GET \(probePath) without credentials answered 401")
        case 200..<300:
            return (false, "GET \(probePath) without credentials answered \(status), expected 401: the address does not reach a receiver that checks credentials")
        default:
            return (false, "GET \(probePath) without credentials answered \(status), expected 401")
        }
    }

    package static func judgeAuthenticated(_ status: Int, username: String) -> (Bool, String) {
        switch status {
        case 200:
            return (true, "GET \(probePath) as \(username) answered 200")
        case 401:
            return (false, "GET \(probePath) as \(username) answered 401: the password is wrong, or the credential was rotated since it was issued")
        case 403:
            return (false, "GET \(probePath) as \(username) answered 403: the client is suspended; resume it to let the Connector in")
        default:
            return (false, "GET \(probePath) as \(username) answered \(status), expected 200")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
