import Dispatch
import Foundation
import Synchronization

/// Groups jobs that arrive while others are being worked on, so that one
/// database transaction serves many requests.
///
/// A caller submits a job with what to do with its outcome (or waits for it). A
/// few *lane* threads take queued jobs, as many as are waiting (up to
/// `maxBatchSize`), run them together and hand each caller its own outcome.
/// Nothing waits for a batch to fill while the other lanes are idle: an idle
/// lane takes a lone job at once, so under light load a batch is one job, and
/// batches grow while lanes are busy — the same way PostgreSQL groups the
/// commits that queue behind one `fsync`. Under load, a lane that finds only a
/// few jobs waiting while another lane is running waits `gatherTime` for more
/// (as PostgreSQL's `commit_delay` does only with `commit_siblings` others active).
///
/// Jobs with the same key (a record's identity) never run in the same batch or in
/// two lanes at once: the later one waits for the next batch, so it sees what the
/// earlier one wrote, as it would one request after another.
///
/// Lanes start on demand and end after `idleLifetime` without work, so an idle
/// batcher holds no threads.
package final class Batcher<Job: Sendable, Outcome: Sendable>: Sendable {
    package struct Settings: Sendable {
        /// The most batches running at once (each on its own database connection).
        var lanes: Int
        /// The most jobs in one batch.
        var maxBatchSize: Int = 32
        /// How long a lane waits for work before its thread ends.
        var idleLifetime: DispatchTimeInterval = .seconds(5)
        /// The most jobs waiting for a busy lane that `submit(_:then:)` accepts; beyond
        /// it the caller answers "overloaded" at once instead of letting every wait grow.
        var maxQueued = 1024
        /// How long a job may wait for a lane; one that waited longer gets the
        /// batcher's `timedOut` outcome instead of running (checked when a lane takes
        /// its next batch). nil: no limit.
        var maxWait: Duration? = nil
        /// How long a lane that finds fewer than `gatherBelow` jobs waiting, while
        /// another lane is running a batch, waits for more before it takes them;
        /// zero: never. A batch costs the database about as much as a few jobs
        /// whatever its size, so under load a short wait spares more than it costs.
        var gatherTime: Duration = .zero
        var gatherBelow = 8

        package init(
            lanes: Int, maxBatchSize: Int = 32, idleLifetime: DispatchTimeInterval = .seconds(5), maxQueued: Int = 1024,
            maxWait: Duration? = nil, gatherTime: Duration = .zero, gatherBelow: Int = 8
        ) {
            (self.lanes, self.maxBatchSize, self.idleLifetime, self.maxQueued, self.maxWait, self.gatherTime, self.gatherBelow) =
                (lanes, maxBatchSize, idleLifetime, maxQueued, maxWait, gatherTime, gatherBelow)
        }
    }

    package typealias Execute = @Sendable ([Job]) -> [Outcome]

    package let settings: Settings
    private let key: @Sendable (Job) -> String?
    private let timedOut: Outcome?
    private let execute: Execute
    private let state = Mutex(State())
    /// Signalled once per wake-up owed to an idle lane (`State.wakeups`).
    private let wake = DispatchSemaphore(value: 0)

    private final class Ticket: Sendable {
        let job: Job
        let key: String?
        /// Called on the lane's thread with the job's outcome.
        let deliver: @Sendable (Outcome) -> Void
        let queuedAt = ContinuousClock.now

        init(job: Job, key: String?, deliver: @escaping @Sendable (Outcome) -> Void) {
            self.job = job
            self.key = key
            self.deliver = deliver
        }
    }

    private enum Action { case leaveForBusyLane, wakeIdleLane, startLane }

    private struct State {
        var queue: [Ticket] = []
        /// Keys of the jobs in running batches.
        var keysInFlight: Set<String> = []
        var lanes = 0
        var idleLanes = 0
        /// Lanes running a batch.
        var busyLanes = 0
        /// Signals sent to idle lanes and not yet taken; never more than `idleLanes`.
        var wakeups = 0
        var batches = 0
        var jobs = 0
    }

    /// Batches run and jobs they held since start: their ratio is the mean batch size.
    package var counts: (batches: Int, jobs: Int) {
        state.withLock { ($0.batches, $0.jobs) }
    }

    /// Lane threads alive, busy or idle.
    package var runningLanes: Int {
        state.withLock { $0.lanes }
    }

    /// - Parameters:
    ///   - key: the identity that must not be in two running batches at once; nil: none.
    ///   - timedOut: the outcome of a job that waited longer than `settings.maxWait`.
    ///   - execute: runs a batch and returns one outcome per job, in order.
    package init(settings: Settings, key: @escaping @Sendable (Job) -> String?, timedOut: Outcome? = nil, execute: @escaping Execute) {
        precondition(settings.lanes >= 1 && settings.maxBatchSize >= 1, "a batcher needs a lane and room for a job")
        precondition(settings.maxWait == nil || timedOut != nil, "a batcher with a wait limit needs the outcome of a job past it")
        self.settings = settings
        self.key = key
        self.timedOut = timedOut
        self.execute = execute
    }

    /// Queues `job`, waits until a lane has run it, and returns its outcome.
    package func submit(_ job: Job) -> Outcome {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Outcome?>(nil)
        _ = enqueue(job, bounded: false) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let outcome = outcome.withLock({ $0 }) else { preconditionFailure("a lane signalled a job without its outcome") }
        return outcome
    }

    /// Queues `job` and returns at once; a lane calls `deliver` with its outcome, on the
    /// lane's thread (so `deliver` must be quick: hand the outcome on). false, and
    /// nothing queued, when `maxQueued` jobs are already waiting.
    package func submit(_ job: Job, then deliver: @escaping @Sendable (Outcome) -> Void) -> Bool {
        enqueue(job, bounded: true, deliver: deliver)
    }

    private func enqueue(_ job: Job, bounded: Bool, deliver: @escaping @Sendable (Outcome) -> Void) -> Bool {
        let ticket = Ticket(job: job, key: key(job), deliver: deliver)
        let action = state.withLock { state -> Action? in
            // Jobs that lanes not running a batch are about to take (idle, woken,
            // starting or yet to start) are not waiting for a busy one.
            let room = (settings.lanes - state.busyLanes) * settings.maxBatchSize
            if bounded && state.queue.count - room >= settings.maxQueued { return nil }
            state.queue.append(ticket)
            if state.idleLanes > state.wakeups {
                state.wakeups += 1
                return .wakeIdleLane
            }
            if state.lanes < settings.lanes {
                state.lanes += 1
                return .startLane
            }
            return .leaveForBusyLane  // a busy lane takes it when its batch is done
        }
        switch action {
        case nil: return false
        case .leaveForBusyLane?: break
        case .wakeIdleLane?: wake.signal()
        case .startLane?:
            Thread.detachNewThread { [self] in
                Thread.current.name = "save-lane"  // not the name of the thread that started it
                runLane()
            }
        }
        return true
    }

    private func runLane() {
        let gatherMicroseconds = UInt32(min(settings.gatherTime / .microseconds(1), 1_000_000))
        while true {
            if gatherMicroseconds > 0, state.withLock({ $0.busyLanes > 0 && !$0.queue.isEmpty && $0.queue.count < settings.gatherBelow }) {
                usleep(gatherMicroseconds)
            }
            // Taking nothing and turning idle happen under one lock: a job queued in
            // between would otherwise find no idle lane to wake and wait for the next.
            let (batch, expired) = state.withLock { state in
                let taken = Self.takeBatch(&state, maxSize: settings.maxBatchSize, maxWait: settings.maxWait)
                if taken.batch.isEmpty { state.idleLanes += 1 } else { state.busyLanes += 1 }
                return taken
            }
            if let timedOut { for ticket in expired { ticket.deliver(timedOut) } }
            if batch.isEmpty {
                guard waitForWork() else { return }
                continue
            }
            let outcomes = execute(batch.map { $0.job })
            precondition(outcomes.count == batch.count, "a batch returns one outcome per job")
            state.withLock { state in
                for ticket in batch { if let key = ticket.key { state.keysInFlight.remove(key) } }
                state.busyLanes -= 1
                state.batches += 1
                state.jobs += batch.count
            }
            for (ticket, outcome) in zip(batch, outcomes) { ticket.deliver(outcome) }
        }
    }

    /// Waits as an idle lane (already counted in `idleLanes`); false when the lane
    /// should end (idle too long and no wake-up owed to it).
    private func waitForWork() -> Bool {
        while true {
            let signalled = wake.wait(timeout: .now() + settings.idleLifetime) == .success
            let carryOn = state.withLock { state -> Bool? in
                if signalled {
                    state.wakeups -= 1
                    state.idleLanes -= 1
                    return true
                }
                // Every idle lane, this one included, is owed a wake-up already on its
                // way: this lane must stay to take one, or a queued job would sit.
                if state.wakeups >= state.idleLanes { return nil }
                state.idleLanes -= 1
                state.lanes -= 1
                return false
            }
            if let carryOn { return carryOn }
        }
    }

    /// Takes queued jobs in arrival order, skipping any whose key is already in
    /// this batch or in a running one; and takes out those that waited longer than
    /// `maxWait`, which do not run.
    private static func takeBatch(_ state: inout State, maxSize: Int, maxWait: Duration?) -> (batch: [Ticket], expired: [Ticket]) {
        var batch: [Ticket] = [], expired: [Ticket] = []
        var remaining: [Ticket] = []
        let now = ContinuousClock.now
        for ticket in state.queue {
            if let maxWait, now - ticket.queuedAt > maxWait {
                expired.append(ticket)
                continue
            }
            guard batch.count < maxSize else {
                remaining.append(ticket)
                continue
            }
            if let key = ticket.key {
                if state.keysInFlight.contains(key) {
                    remaining.append(ticket)
                    continue
                }
                state.keysInFlight.insert(key)
            }
            batch.append(ticket)
        }
        state.queue = remaining
        return (batch, expired)
    }
}
