import Dispatch
import Synchronization

/// A fixed set of POSIX threads running blocking request handlers, behind a bounded queue.
///
/// Handlers may block for as long as a database query takes, so they must not run on an event
/// loop (it would stall every connection of that loop) nor on Swift's cooperative pool (two
/// threads here; one blocked handler per core stalls all async code in the process). The pool
/// size bounds concurrent handler work; excess requests wait in a FIFO queue, at most one per
/// connection (a connection sends its next request to a worker only after the previous
/// response).
///
/// Admission control: at most `maxWaiting` jobs wait for a worker at once (jobs an idle worker
/// is about to pick up do not count); ``submit(_:)`` refuses more (the event loop answers
/// those 503 at once instead of letting the queue, and every request's wait, grow with the
/// number of connections). A waiting job can be withdrawn
/// (``withdraw(_:)``: it waited too long, or its connection closed); a withdrawn job never
/// runs, and it releases what its closure holds (the request and its body) at once.
final class WorkerPool: Sendable {
    /// A handler run; it returns what delivers its result (sends the response), which
    /// runs once the job's place in the pool is free again: a client that sends its
    /// next request as soon as it has the answer must find the worker free, not be
    /// shed for a slot about to be released.
    typealias Work = @Sendable () -> Delivery
    typealias Delivery = @Sendable () -> Void

    /// One queued handler run. Exactly one of starting it (a worker) and withdrawing it (its
    /// event loop) wins: whoever takes the closure.
    final class Job: Sendable {
        private let work: Mutex<Work?>

        init(_ work: @escaping Work) {
            self.work = Mutex(work)
        }

        /// The closure, once; nil if it was already started or withdrawn.
        fileprivate func claim() -> Work? {
            work.withLock { work in
                defer { work = nil }
                return work
            }
        }
    }

    /// What became of a submitted job.
    enum Submission {
        /// Queued; keep the job to withdraw it later if need be.
        case queued(Job)
        /// Every worker is busy and `maxWaiting` jobs are already waiting: not queued.
        case queueFull
        /// The pool is stopping: the job was not queued.
        case stopping
    }

    /// The queue and its semaphores, shared with the worker threads.
    private final class JobQueue: Sendable {
        struct State {
            var jobs: [Job] = []
            var head = 0
            var stopping = false
        }

        let state = Mutex(State())
        /// Jobs admitted and not finished: waiting (neither started nor withdrawn) or running.
        /// Incremented under `state`'s lock (so the bound is exact); decremented when a job
        /// finishes or is withdrawn.
        let admitted = Atomic<Int>(0)
        let available = DispatchSemaphore(value: 0)
        let exited = DispatchSemaphore(value: 0)

        /// The next job, or nil once stopping and drained.
        func take() -> Job? {
            available.wait()
            return state.withLock { state in
                guard state.head < state.jobs.count else { return nil }  // only after stop()
                let job = state.jobs[state.head]
                state.head += 1
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: state.jobs.count <= 1024)
                    state.head = 0
                } else if state.head >= 1024 && state.head * 2 >= state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
        }
    }

    private let queue = JobQueue()
    private let threads: [PosixThread]
    /// The most jobs waiting (queued, not started, not withdrawn) at once.
    let maxWaiting: Int
    /// The most jobs admitted at once: one per worker plus `maxWaiting`.
    private let capacity: Int
    private let workerCount: Int

    /// - Parameter niceness: added to each worker thread's nice value, so that under CPU
    ///   saturation the event loops run first (see ``HTTPServer/Configuration/workerNiceness``).
    init(count: Int, maxWaiting: Int = .max, niceness: Int = 0, name: String = "http-worker") throws {
        precondition(count >= 1, "workerThreads must be at least 1")
        precondition(maxWaiting >= 0, "maxWaiting must not be negative")
        self.maxWaiting = maxWaiting
        self.workerCount = count
        self.capacity = count.addingReportingOverflow(maxWaiting).overflow ? .max : count + maxWaiting
        var started: [PosixThread] = []
        let queue = self.queue
        for index in 0..<count {
            do {
                started.append(try PosixThread.spawn(name: "\(name)-\(index)") {
                    if niceness > 0 { LinuxAPI.lowerCurrentThreadPriority(by: Int32(niceness)) }  // best effort
                    while let job = queue.take() {
                        // A withdrawn job is skipped: its connection was answered or closed.
                        guard let work = job.claim() else { continue }
                        let deliver = work()
                        queue.admitted.subtract(1, ordering: .relaxed)
                        deliver()
                    }
                    queue.exited.signal()
                })
            } catch {
                queue.state.withLock { $0.stopping = true }
                for _ in started { queue.available.signal() }
                for thread in started { thread.join() }
                throw error
            }
        }
        self.threads = started
    }

    /// Queues `work` unless every worker is busy and `maxWaiting` jobs are already waiting, or
    /// the pool is stopping.
    func submit(_ work: @escaping Work) -> Submission {
        let job = Job(work)
        let submission = queue.state.withLock { state -> Submission in
            guard !state.stopping else { return .stopping }
            guard queue.admitted.load(ordering: .relaxed) < capacity else { return .queueFull }
            queue.admitted.add(1, ordering: .relaxed)
            state.jobs.append(job)
            return .queued(job)
        }
        if case .queued = submission { queue.available.signal() }
        return submission
    }

    /// Withdraws a job that has not started: it will never run. Returns false when a worker
    /// already started it.
    func withdraw(_ job: Job) -> Bool {
        guard job.claim() != nil else { return false }
        queue.admitted.subtract(1, ordering: .relaxed)
        return true
    }

    /// Would ``submit(_:)`` refuse for a full queue right now?
    var isQueueFull: Bool { queue.admitted.load(ordering: .relaxed) >= capacity }

    /// Jobs waiting for a worker right now (approximately: admitted beyond the workers).
    var waitingCount: Int { max(0, queue.admitted.load(ordering: .relaxed) - workerCount) }

    /// Lets queued jobs finish, then ends the threads. Threads still busy after `timeout`
    /// (a handler stuck in a query) are detached rather than waited for forever.
    /// - Returns: true when every thread ended in time.
    func stop(timeout: Duration) -> Bool {
        let alreadyStopping = queue.state.withLock { state -> Bool in
            defer { state.stopping = true }
            return state.stopping
        }
        guard !alreadyStopping else { return true }
        for _ in threads { queue.available.signal() }
        let deadline = DispatchTime.now() + .nanoseconds(Int(min(timeout.nanoseconds, UInt64(Int.max))))
        var ended = 0
        while ended < threads.count, queue.exited.wait(timeout: deadline) == .success {
            ended += 1
        }
        if ended == threads.count {
            for thread in threads { thread.join() }
            return true
        }
        for thread in threads { thread.detach() }
        return false
    }
}
