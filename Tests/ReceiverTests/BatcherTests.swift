import Dispatch
import Foundation
import Synchronization
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The batcher on its own, with real threads: jobs that arrive while lanes are
/// busy share a batch, every caller gets its own outcome, jobs of one key never
/// overlap, and idle lanes end.
@Suite struct BatcherTests {
    struct Job: Sendable {
        let caller: Int
        let key: String?
    }

    /// Runs `body(caller)` on `callers` threads at once and returns their results by caller.
    static func concurrently<T: Sendable>(_ callers: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        let results = Mutex([Int: T]())
        let group = DispatchGroup()
        for caller in 0..<callers {
            group.enter()
            Thread.detachNewThread {
                let result = body(caller)
                results.withLock { $0[caller] = result }
                group.leave()
            }
        }
        group.wait()
        return results.withLock { results in (0..<callers).map { results[$0]! } }
    }

    @Test func everyCallerGetsItsOwnOutcomeAndBusyLanesMakeBatches() {
        let batchSizes = Mutex([Int]())
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 2), key: { $0.key }) { jobs in
            batchSizes.withLock { $0.append(jobs.count) }
            usleep(20_000)  // a batch's round trips and COMMIT
            return jobs.map { $0.caller * 10 }
        }
        let outcomes = Self.concurrently(40) { caller in batcher.submit(Job(caller: caller, key: nil)) }
        #expect(outcomes == (0..<40).map { $0 * 10 })
        let sizes = batchSizes.withLock { $0 }
        #expect(sizes.reduce(0, +) == 40)
        #expect(sizes.count < 40, "no batch held more than one job: \(sizes)")
        #expect(sizes.allSatisfy { $0 <= batcher.settings.maxBatchSize })
        #expect(batcher.counts.batches == sizes.count && batcher.counts.jobs == 40)
    }

    /// While another lane runs a batch, a lane that finds only a few jobs waiting
    /// waits `gatherTime` for more, and they share its batch; alone, a job never waits.
    @Test func aLaneGathersJobsWhileAnotherRunsAndALoneJobNeverWaits() {
        let release = DispatchSemaphore(value: 0)
        let batches = Mutex([[Int]]())
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 2, gatherTime: .seconds(1)), key: { $0.key }) { jobs in
            batches.withLock { $0.append(jobs.map(\.caller)) }
            if jobs.contains(where: { $0.caller == 0 }) { release.wait() }  // job 0 holds its lane
            return jobs.map { $0.caller }
        }
        let done = DispatchGroup()
        let started = ContinuousClock.now
        func submit(_ caller: Int) {
            done.enter()
            #expect(batcher.submit(Job(caller: caller, key: nil)) { _ in done.leave() })
        }
        submit(0)
        for _ in 0..<300 where batches.withLock({ $0.isEmpty }) { usleep(10_000) }
        #expect(ContinuousClock.now - started < .milliseconds(900), "the lone job waited for others")

        submit(1)  // the second lane starts, finds one job and lane 1 busy: it gathers
        usleep(200_000)
        submit(2)
        submit(3)
        for _ in 0..<300 where batches.withLock({ $0.count < 2 }) { usleep(10_000) }
        release.signal()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(batches.withLock { $0 } == [[0], [1, 2, 3]])
    }

    @Test func submittingWithoutWaitingDeliversOnTheLaneAndRefusesBeyondTheQueueBound() {
        let release = DispatchSemaphore(value: 0)
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 1, maxQueued: 2), key: { $0.key }) { jobs in
            release.wait()  // the lane is busy until the test lets it go
            return jobs.map { $0.caller * 10 }
        }
        let delivered = Mutex([Int: Int]())
        let done = DispatchGroup()
        func submit(_ caller: Int) -> Bool {
            done.enter()
            let queued = batcher.submit(Job(caller: caller, key: nil)) { outcome in
                delivered.withLock { $0[caller] = outcome }
                done.leave()
            }
            if !queued { done.leave() }
            return queued
        }
        #expect(submit(0))  // taken by the lane, which then blocks
        for _ in 0..<300 where batcher.runningLanes == 0 { usleep(10_000) }
        usleep(50_000)  // and has taken job 0 off the queue
        #expect(submit(1) && submit(2))  // queued: the bound
        #expect(!submit(3))  // refused, nothing queued
        for _ in 0..<3 { release.signal() }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(delivered.withLock { $0 } == [0: 0, 1: 10, 2: 20])
        #expect(submit(4))  // room again
        release.signal()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(delivered.withLock { $0[4] } == 40)
    }

    @Test func aJobThatWaitedTooLongForALaneGetsTheTimedOutOutcomeAndNeverRuns() {
        let release = DispatchSemaphore(value: 0)
        let ran = Mutex([Int]())
        let batcher = Batcher<Job, Int>(
            settings: .init(lanes: 1, maxWait: .milliseconds(100)), key: { $0.key }, timedOut: -1
        ) { jobs in
            ran.withLock { $0 += jobs.map(\.caller) }
            if jobs.contains(where: { $0.caller == 0 }) { release.wait() }  // job 0 holds the lane
            return jobs.map(\.caller)
        }
        let outcomes = Mutex([Int: Int]())
        let done = DispatchGroup()
        for caller in 0..<3 {
            done.enter()
            #expect(batcher.submit(Job(caller: caller, key: nil)) { outcome in
                outcomes.withLock { $0[caller] = outcome }
                done.leave()
            })
            if caller == 0 { for _ in 0..<300 where ran.withLock({ $0.isEmpty }) { usleep(10_000) } }
        }
        usleep(300_000)  // jobs 1 and 2 wait past the limit
        release.signal()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(outcomes.withLock { $0 } == [0: 0, 1: -1, 2: -1])
        #expect(ran.withLock { $0 } == [0])
        // A job that does not wait long runs.
        #expect(batcher.submit(Job(caller: 3, key: nil)) == 3)
    }

    @Test func aBatchHoldsAtMostMaxBatchSizeJobs() {
        let largest = Mutex(0)
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 1, maxBatchSize: 3), key: { $0.key }) { jobs in
            largest.withLock { $0 = max($0, jobs.count) }
            usleep(10_000)
            return jobs.map(\.caller)
        }
        let outcomes = Self.concurrently(20) { caller in batcher.submit(Job(caller: caller, key: nil)) }
        #expect(outcomes == Array(0..<20))
        #expect(largest.withLock { $0 } == 3)
    }

    @Test func jobsOfOneKeyNeverShareABatchNorRunInTwoLanesAtOnce() {
        let keysRunning = Mutex([String: Int]())
        let overlaps = Mutex(0)
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 4), key: { $0.key }) { jobs in
            let keys = jobs.compactMap(\.key)
            keysRunning.withLock { running in
                for key in keys {
                    running[key, default: 0] += 1
                    if running[key]! > 1 { overlaps.withLock { $0 += 1 } }
                }
            }
            usleep(5_000)
            keysRunning.withLock { running in for key in keys { running[key]! -= 1 } }
            return jobs.map(\.caller)
        }
        // 60 callers over 3 keys: each key's jobs must run one batch after another.
        let outcomes = Self.concurrently(60) { caller in batcher.submit(Job(caller: caller, key: "record-\(caller % 3)")) }
        #expect(outcomes == Array(0..<60))
        #expect(overlaps.withLock { $0 } == 0)
        #expect(batcher.counts.jobs == 60)
    }

    @Test func idleLanesEndAndStartAgainOnDemand() {
        let batcher = Batcher<Job, Int>(settings: .init(lanes: 3, idleLifetime: .milliseconds(50)), key: { $0.key }) { jobs in
            usleep(5_000)
            return jobs.map(\.caller)
        }
        _ = Self.concurrently(12) { caller in batcher.submit(Job(caller: caller, key: nil)) }
        #expect((1...3).contains(batcher.runningLanes))
        var waited = 0
        while batcher.runningLanes > 0, waited < 100 {
            usleep(20_000)
            waited += 1
        }
        #expect(batcher.runningLanes == 0, "idle lanes did not end")
        #expect(batcher.submit(Job(caller: 7, key: nil)) == 7)
    }
}
