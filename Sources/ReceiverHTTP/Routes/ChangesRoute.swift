import HTTPServer
import ReceiverCore

/// `GET /v1/changes`: the client's events in feed order (`ChangeFeed`), and with
/// `wait` a long poll held by `ChangeWaiters`, not by a worker or a connection.
struct ChangesRoute {
    let endpoint: ConnectorEndpoint
    let waiters: ChangeWaiters

    static let maximumWait = 30

    func register(in router: inout Router) {
        router.get("/v1/changes", handler: endpoint.read(deferring: { [waiters] call, context in
            let request = call.request
            let query = ChangeFeed.Query(
                clientId: call.clientId, after: try Self.cursor(request), limit: try Self.limit(request),
                types: try Self.types(request), clubId: try RequestSupport.queryClubId(request))
            let wait = try Self.wait(request)
            let page = try ChangeFeed.read(query, on: call.connection)
            guard page.events.isEmpty, wait > 0, let deferred = context.deferResponse() else {
                return ChangeWaiters.response(page)
            }
            var waiting = query
            waiting.after = page.next
            waiters.wait(waiting, until: .now + .seconds(wait), answer: deferred)
            return Response(status: .accepted)  // never sent: the response was deferred
        }))
    }

    private static func cursor(_ request: Request) throws -> FeedCursor? {
        guard let text = try RequestSupport.queryValue(request, "after") else { return nil }
        guard let cursor = FeedCursor(text: text) else {
            throw Problem.badRequest("after is not a cursor this feed returned; start again without it, or from a nextCursor it returned.")
        }
        return cursor
    }

    private static func limit(_ request: Request) throws -> Int {
        guard let text = try RequestSupport.queryValue(request, "limit") else { return Page.defaultLimit }
        guard let limit = Int(text), (1...Page.maximumLimit).contains(limit) else {
            throw Problem.badRequest("limit must be a whole number from 1 to \(Page.maximumLimit).")
        }
        return limit
    }

    /// `types=prospect.created,member.updated`: each one a known type.
    private static func types(_ request: Request) throws -> [String]? {
        guard let text = try RequestSupport.queryValue(request, "types") else { return nil }
        let types = text.split(separator: ",", omittingEmptySubsequences: false).map { String(String($0).trimmingOptionalWhitespace()) }
        let unknown = types.filter { !ChangeFeed.types.contains($0) }
        guard unknown.isEmpty, !types.isEmpty else {
            throw Problem.badRequest("types lists event types separated by commas, from: \(ChangeFeed.types.joined(separator: ", ")); \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) is not one.")
        }
        return types
    }

    private static func wait(_ request: Request) throws -> Int {
        guard let text = try RequestSupport.queryValue(request, "wait") else { return 0 }
        guard let seconds = Int(text), (0...maximumWait).contains(seconds) else {
            throw Problem.badRequest("wait must be a whole number of seconds from 0 to \(maximumWait).")
        }
        return seconds
    }
}
