import Postgres
import Synchronization
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

@Suite struct RateLimitTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let nanoseconds = Atomic<UInt64>(1_000_000_000)
        func advance(seconds: Double) { nanoseconds.add(UInt64(seconds * 1e9), ordering: .relaxed) }
        var read: @Sendable () -> UInt64 { { self.nanoseconds.load(ordering: .relaxed) } }
    }

    @Test func aBucketAllowsItsBurstThenRefillsAtItsRate() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: .init(requestsPerSecond: 2, burst: 3), clock: clock.read)
        for _ in 0..<3 { #expect(limiter.admit("acme") == .allowed) }
        #expect(limiter.admit("acme") == .limited(retryAfterSeconds: 1))
        // Another client has its own bucket.
        #expect(limiter.admit("globex") == .allowed)

        clock.advance(seconds: 0.5)  // one token back
        #expect(limiter.admit("acme") == .allowed)
        #expect(limiter.admit("acme") == .limited(retryAfterSeconds: 1))

        clock.advance(seconds: 60)  // refills to the burst, not beyond
        for _ in 0..<3 { #expect(limiter.admit("acme") == .allowed) }
        #expect(limiter.admit("acme") != .allowed)
    }

    @Test func retryAfterIsTheWaitForTheNextToken() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: .init(requestsPerSecond: 0.1, burst: 1), clock: clock.read)
        #expect(limiter.admit("acme") == .allowed)
        #expect(limiter.admit("acme") == .limited(retryAfterSeconds: 10))
        clock.advance(seconds: 4.5)
        #expect(limiter.admit("acme") == .limited(retryAfterSeconds: 6))
        clock.advance(seconds: 5.5)
        #expect(limiter.admit("acme") == .allowed)
    }

    @Test func peekTakesNoToken() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(settings: .init(requestsPerSecond: 1, burst: 1), clock: clock.read)
        #expect(limiter.peek("acme") == .allowed)
        #expect(limiter.peek("acme") == .allowed)
        #expect(limiter.admit("acme") == .allowed)
        #expect(limiter.peek("acme") == .limited(retryAfterSeconds: 1))
        clock.advance(seconds: 1)
        #expect(limiter.peek("acme") == .allowed)
        #expect(limiter.admit("acme") == .allowed)
    }

    @Test func theDefaultBurstIsTwoSecondsWorth() {
        #expect(ClientRateLimiter.Settings(requestsPerSecond: 50).burst == 100)
        #expect(ClientRateLimiter.Settings(requestsPerSecond: 0.2).burst == 1)
    }

    @Test func aClientOverItsRateGets429WithRetryAfterOthersDoNot() throws {
        let service = ReceiverService.Configuration(clientRateLimit: .init(requestsPerSecond: 0.01, burst: 2))
        try TestServer.run(service: service) { server in
            let acme = try server.turnUp("acme")
            let globex = try server.turnUp("globex")
            // Wrong credentials are answered 401 and spend nothing of acme's allowance.
            let wrong = APICredentials(username: acme.username, password: "not-the-password")
            #expect(try server.request("GET", "/v1/lead-sources", auth: wrong).status == 401)

            #expect(try server.request("GET", "/v1/lead-sources", auth: acme).status == 200)
            #expect(try server.request("POST", "/v1/lead-sources", json: #"{"name": "Web"}"#, auth: acme).status == 201)
            let limited = try server.request("POST", "/v1/lead-sources", json: #"{"name": "Walk-in"}"#, auth: acme)
            #expect(limited.status == 429, "\(limited)")
            #expect(limited.header("Content-Type") == "application/problem+json")
            #expect(limited.string("type") == "urn:connector-receiver:problem:rate-limited")
            let retryAfter = try #require(limited.header("Retry-After").flatMap { Int($0) })
            #expect((90...100).contains(retryAfter), "Retry-After: \(retryAfter)")
            #expect(limited.string("detail")?.contains("acme") == true)
            // While acme is over its rate its requests are refused before authentication (on the
            // I/O thread, without a worker or a database connection), whatever the password.
            let refusedEarly = try server.request("GET", "/v1/lead-sources", auth: wrong)
            #expect(refusedEarly.status == 429)
            #expect(refusedEarly.string("type") == "urn:connector-receiver:problem:rate-limited")

            #expect(try server.request("GET", "/v1/lead-sources", auth: globex).status == 200)
            // Nothing was written for the rejected request, and it is no sync error.
            let list = try server.request("GET", "/v1/lead-sources", auth: globex)
            guard case .array(let items)? = list["items"] else { Issue.record("no items"); return }
            #expect(items.isEmpty)
            let errors = try server.pool.withConnection { try $0.query("SELECT count(*) AS n FROM sync_errors").first!.decode("n", as: Int.self) }
            #expect(errors == 0)
        }
    }

    @Test func withoutALimitNothingIsRateLimited() throws {
        try TestServer.run { server in
            let acme = try server.turnUp("acme")
            for _ in 0..<20 {
                #expect(try server.request("GET", "/v1/lead-sources?limit=1", auth: acme).status == 200)
            }
        }
    }

    @Test func theOverloadProblem() throws {
        let response = Problem.overloaded().makeResponse()
        #expect(response.status.code == 503)
        #expect(response.headerFields[.retryAfter] == "2")
        #expect(response.headerFields[.contentType] == "application/problem+json")
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body.contains(#""type":"urn:connector-receiver:problem:overloaded""#), "\(body)")
    }
}
