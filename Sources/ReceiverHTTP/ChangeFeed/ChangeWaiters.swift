import Dispatch
import Foundation
import HTTPServer
import Logging
import Metrics
import Postgres
import ReceiverCore
import Synchronization

/// Readers of the change feed waiting for the next event (`wait=`): held here,
/// not on a worker thread or a database connection.
///
/// One thread, started while anyone waits, checks for them all: at once when
/// this instance has just committed a change (`changed()`), else every
/// `pollInterval`, which also catches changes other instances commit and a
/// horizon that moves on once a long transaction ends. A check is one statement
/// for every waiting reader (`ChangeFeed.clientsWithNews`); only the readers of
/// clients with news read a page, and a reader whose page is empty (its filters
/// left everything out) goes on waiting from further on. No `LISTEN`/`NOTIFY`:
/// a transaction that notifies takes a lock that serializes every such commit
/// of the cluster, which the saves cannot afford.
final class ChangeWaiters: Sendable {
    struct Waiter: Sendable {
        var query: ChangeFeed.Query
        let deadline: ContinuousClock.Instant
        let deferred: DeferredResponse
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextId: UInt64 = 0
        var running = false
        var stopped = false
    }

    private let database: PostgresConnectionPool
    private let pollInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())
    /// Signalled to check at once.
    private let wake = DispatchSemaphore(value: 0)
    private let waiting = Gauge(label: "receiver_change_feed_waiting_readers")
    /// Told of every local commit too (webhook delivery), whether or not readers wait.
    private let onChange: (@Sendable () -> Void)?

    init(database: PostgresConnectionPool, pollInterval: Duration = .milliseconds(50), onChange: (@Sendable () -> Void)? = nil, logger: Logger) {
        self.database = database
        self.pollInterval = pollInterval
        self.onChange = onChange
        self.logger = logger
    }

    /// Holds `deferred` until an event for `query` commits or `deadline` passes.
    func wait(_ query: ChangeFeed.Query, until deadline: ContinuousClock.Instant, answer deferred: DeferredResponse) {
        let start = state.withLock { state -> Bool? in
            guard !state.stopped else { return nil }
            state.nextId += 1
            state.waiters[state.nextId] = Waiter(query: query, deadline: deadline, deferred: deferred)
            waiting.record(state.waiters.count)
            defer { state.running = true }
            return !state.running
        }
        switch start {
        case nil: deferred.complete(Self.response(FeedPage(events: [], next: query.after)))
        case true?: Thread.detachNewThread { [self] in run() }
        case false?: break
        }
    }

    /// This instance committed a change: check the waiting readers now.
    func changed() {
        onChange?()
        if state.withLock({ !$0.waiters.isEmpty }) { wake.signal() }
    }

    /// Answers every waiting reader with what it has (an empty page) and takes no
    /// more: the server is stopping.
    func stop() {
        let all = state.withLock { state -> [Waiter] in
            state.stopped = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in all { waiter.deferred.complete(Self.response(FeedPage(events: [], next: waiter.query.after))) }
        wake.signal()
    }

    /// The response to a feed read: the page, never stored by a cache.
    static func response(_ page: FeedPage) -> Response {
        var response = Response.json(page.json)
        response.headerFields[.cacheControl] = "no-store"
        return response
    }

    private func run() {
        while true {
            let (seconds, attoseconds) = pollInterval.components
            _ = wake.wait(timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
            let now = ContinuousClock.now
            let (due, pending) = state.withLock { state -> ([Waiter], [UInt64: Waiter]) in
                let due = state.waiters.filter { $0.value.deadline <= now }
                for id in due.keys { state.waiters[id] = nil }
                if state.waiters.isEmpty { state.running = false }
                waiting.record(state.waiters.count)
                return (Array(due.values), state.waiters)
            }
            for waiter in due { waiter.deferred.complete(Self.response(FeedPage(events: [], next: waiter.query.after))) }
            if pending.isEmpty { return }
            check(pending)
        }
    }

    /// Reads a page for every waiter whose client has news; answers those with events.
    private func check(_ pending: [UInt64: Waiter]) {
        var earliest: [String: FeedCursor] = [:]
        for waiter in pending.values {
            let after = waiter.query.after
            earliest[waiter.query.clientId] = earliest[waiter.query.clientId].map { min(after, $0) } ?? after
        }
        do {
            try database.withConnection { connection in
                let news = try ChangeFeed.clientsWithNews(earliest.map { ($0.key, $0.value) }, on: connection)
                for (id, waiter) in pending where news.contains(waiter.query.clientId) {
                    let page = try ChangeFeed.read(waiter.query, on: connection)
                    if page.events.isEmpty {
                        // Its filters left out what came: wait on from past it.
                        state.withLock { $0.waiters[id]?.query.after = page.next }
                    } else if state.withLock({ $0.waiters.removeValue(forKey: id) }) != nil {
                        waiter.deferred.complete(Self.response(page))
                    }
                }
            }
        } catch {
            // The readers wait on; at their deadline they get an empty page. The next check retries.
            logger.warning("change feed: checking for waiting readers failed", metadata: ["error": "\(error)"])
        }
    }
}

private func min(_ a: FeedCursor, _ b: FeedCursor) -> FeedCursor {
    FeedCursor.furthest(a, b) == a ? b : a
}
