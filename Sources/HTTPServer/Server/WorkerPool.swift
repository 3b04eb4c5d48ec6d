import Dispatch
import Synchronization

/// A fixed set of POSIX threads running blocking request handlers.
///
/// Handlers may block for as long as a database query takes, so they must not run on an event
/// loop (it would stall every connection of that loop) nor on Swift's cooperative pool (two
/// threads here; one blocked handler per core stalls all async code in the process). The pool
/// size bounds concurrent handler work; excess requests wait in a FIFO queue, at most one per
/// connection (a connection sends its next request to a worker only after the previous
/// response), so the queue is bounded by the connection limit.
final class WorkerPool: Sendable {
    typealias Job = @Sendable () -> Void

    /// The queue and its semaphores, shared with the worker threads.
    private final class JobQueue: Sendable {
        struct State {
            var jobs: [Job] = []
            var head = 0
            var stopping = false
        }

        let state = Mutex(State())
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

    init(count: Int, name: String = "http-worker") throws {
        precondition(count >= 1, "workerThreads must be at least 1")
        var started: [PosixThread] = []
        let queue = self.queue
        for index in 0..<count {
            do {
                started.append(try PosixThread.spawn(name: "\(name)-\(index)") {
                    while let job = queue.take() { job() }
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

    /// Queues `job`; returns false (dropping it) once the pool is stopping.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        let accepted = queue.state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { queue.available.signal() }
        return accepted
    }

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
