import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loop on ``OutboundHTTPMultiClient``'s driver thread, and everything only that thread
/// touches: the multi handle's transfers, the per-host queues, the idle easy handles. Confined
/// to that one thread, so nothing here locks except the brief visits to the shared inbox.
final class MultiDriver {
    private typealias TransferID = OutboundHTTPMultiClient.TransferID
    private typealias Completion = OutboundHTTPMultiClient.Completion
    private typealias Outcome = Result<OutboundResponse, OutboundHTTPError>

    /// A transfer added to the multi handle.
    private struct Running {
        var id: TransferID
        var hostKey: String
        var transfer: Transfer
        var completion: Completion
    }

    private let shared: MultiShared
    private let configuration: OutboundHTTPMultiClient.Configuration
    private var multi: UnsafeMutableRawPointer { shared.multi.raw }

    /// By easy handle (`CURL *`), which is how `curl_multi_info_read` names a finished transfer.
    private var running: [UnsafeMutableRawPointer: Running] = [:]
    private var runningByID: [TransferID: UnsafeMutableRawPointer] = [:]
    private var runningPerHost: [String: Int] = [:]
    /// Waiting transfers, one FIFO per host key, and the hosts that have any in serving order.
    private var waiting: [String: HostQueue] = [:]
    private var waitingHosts: [String] = []
    private var waitingHostOf: [TransferID: String] = [:]
    /// How many transfers left the waiting state since the inbox last heard of it.
    private var leftWaiting = 0
    private var idleHandles: [EasyHandle] = []
    /// Outcomes to hand out at the end of the pass, outside any lock.
    private var completions: [(Completion, Outcome)] = []

    init(shared: MultiShared, configuration: OutboundHTTPMultiClient.Configuration) {
        self.shared = shared
        self.configuration = configuration
    }

    func run() {
        let pollMilliseconds = Int32(clamping: OutboundHTTPClient.milliseconds(configuration.maxPollWait))
        while true {
            let (submissions, cancellations, closing) = takeInbox()
            for submission in submissions { enqueue(submission) }
            if closing { break }
            for id in cancellations { cancel(id, reason: "by the caller") }

            startWaiting()
            var stillRunning: Int32 = 0
            let performCode = curl_multi_perform(multi, &stillRunning)
            collectFinished()
            if performCode != CURLM_OK { failRunning(performCode, in: "curl_multi_perform") }
            startWaiting()  // into the slots just freed; the next poll returns at once for them
            // Published before the completions run, so a completion already sees the new load.
            let mayWait = syncLoad()
            deliverCompletions()

            var pollCode = CURLM_OK
            if mayWait {
                // libcurl shortens the wait to its own next timer, and curl_multi_wakeup ends it
                // early (a completion that submits or closes wakes it too).
                pollCode = curl_multi_poll(multi, nil, 0, pollMilliseconds, nil)
            }
            if pollCode != CURLM_OK {
                failRunning(pollCode, in: "curl_multi_poll")
                deliverCompletions()
                usleep(10_000)  // a broken poll must not turn the loop into a spin
            }
        }
        shutDown()
    }

    // MARK: - The inbox

    private func takeInbox() -> ([MultiSubmission], [TransferID], Bool) {
        shared.inbox.withLock { inbox in
            defer {
                inbox.submissions.removeAll()
                inbox.cancellations.removeAll()
            }
            return (inbox.submissions, inbox.cancellations, inbox.closing)
        }
    }

    /// Publishes the load; false when the client is closing (then the loop should not sleep).
    private func syncLoad() -> Bool {
        shared.inbox.withLock { inbox in
            inbox.waiting -= leftWaiting
            inbox.running = running.count
            leftWaiting = 0
            return !inbox.closing && inbox.submissions.isEmpty && inbox.cancellations.isEmpty
        }
    }

    // MARK: - Scheduling

    private func enqueue(_ submission: MultiSubmission) {
        // libcurl's CURLMOPT_MAX_HOST_CONNECTIONS counts per host name and port; so do we, so
        // that every transfer we start gets a connection at once instead of pending inside libcurl.
        let key = "\(submission.target.host.lowercased()):\(submission.target.port)"
        if waiting[key] == nil {
            waiting[key] = HostQueue()
            waitingHosts.append(key)
        }
        waiting[key]!.append(submission)
        waitingHostOf[submission.id] = key
    }

    /// Starts waiting transfers while there are free slots, one per host in turn, so every host
    /// with work gets its share and a host at its connection limit is passed over.
    private func startWaiting() {
        let maxRunning = configuration.maxConcurrentTransfers
        let maxPerHost = configuration.maxConnectionsPerHost
        while running.count < maxRunning, !waitingHosts.isEmpty {
            var served: [String] = []
            var passed: [String] = []
            for key in waitingHosts {
                guard running.count < maxRunning, runningPerHost[key, default: 0] < maxPerHost,
                      let submission = waiting[key]?.popFirst()
                else {
                    passed.append(key)
                    continue
                }
                served.append(key)
                waitingHostOf[submission.id] = nil
                leftWaiting += 1
                if let deadline = submission.request.startDeadline, deadline < .now {
                    completions.append((submission.completion, .failure(.notStarted(target: submission.target))))
                    continue
                }
                start(submission, hostKey: key)
            }
            // Hosts just served go to the back of the line; emptied ones leave it.
            waitingHosts = (passed + served).filter { key in
                guard let queue = waiting[key], !queue.isEmpty else {
                    waiting[key] = nil
                    return false
                }
                return true
            }
            if served.isEmpty { break }  // every host with work is at its limit
        }
    }

    private func start(_ submission: MultiSubmission, hostKey: String) {
        guard let handle = idleHandles.popLast() ?? EasyHandle() else {
            completions.append((submission.completion, .failure(OutboundHTTPError(
                kind: .other, message: "libcurl could not create an easy handle (out of memory?)"
            ))))
            return
        }
        let transfer: Transfer
        do {
            transfer = try Transfer(
                request: submission.request, target: submission.target, handle: handle,
                configuration: configuration.requests, http11Only: true
            )
        } catch {
            recycle(handle)
            completions.append((submission.completion, .failure(error)))
            return
        }
        let code = curl_multi_add_handle(multi, handle.raw)
        guard code == CURLM_OK else {
            recycle(handle)
            completions.append((submission.completion, .failure(OutboundHTTPError(
                kind: .other,
                message: "libcurl could not start the request to \(submission.target.authority): \(MultiHandle.describe(code))"
            ))))
            return
        }
        running[handle.raw] = Running(id: submission.id, hostKey: hostKey, transfer: transfer, completion: submission.completion)
        runningByID[submission.id] = handle.raw
        runningPerHost[hostKey, default: 0] += 1
    }

    // MARK: - Finishing

    private func collectFinished() {
        var easy: UnsafeMutableRawPointer?
        var code = CURLE_OK
        while ccurl_multi_next_done(multi, &easy, &code) != 0 {
            guard let easy, let finished = remove(easy) else { continue }
            // Read before the handle is reset: the outcome comes from its info and error buffer.
            completions.append((finished.completion, finished.transfer.outcome(code)))
            recycle(finished.transfer.handle)
        }
    }

    /// Takes a transfer off the multi handle (closing its connection if it was mid-exchange).
    private func remove(_ easy: UnsafeMutableRawPointer) -> Running? {
        guard let entry = running.removeValue(forKey: easy) else { return nil }
        _ = curl_multi_remove_handle(multi, easy)
        runningByID[entry.id] = nil
        runningPerHost[entry.hostKey, default: 1] -= 1
        if runningPerHost[entry.hostKey] == 0 { runningPerHost[entry.hostKey] = nil }
        return entry
    }

    private func cancel(_ id: TransferID, reason: String) {
        if let easy = runningByID[id], let entry = remove(easy) {
            completions.append((entry.completion, .failure(.cancelled(target: entry.transfer.target, reason: reason))))
            recycle(entry.transfer.handle)
        } else if let key = waitingHostOf.removeValue(forKey: id), let submission = waiting[key]?.remove(id) {
            leftWaiting += 1
            completions.append((submission.completion, .failure(.cancelled(target: submission.target, reason: reason))))
        }
    }

    /// A failure of the multi handle itself (out of memory, an unusable poll) rather than of one
    /// transfer: libcurl's timers may not have run, so no running transfer can be trusted to
    /// end on its own. Each is answered with the code, where it happened, and taken off.
    private func failRunning(_ code: CURLMcode, in call: String) {
        for easy in Array(running.keys) {
            guard let entry = remove(easy) else { continue }
            completions.append((entry.completion, .failure(OutboundHTTPError(
                kind: .other,
                message: "the request to \(entry.transfer.target.authority) was abandoned: \(call) failed: \(MultiHandle.describe(code)) — whether the server received it is unknown"
            ))))
        }
    }

    /// Back to the idle pool, reset so nothing of the last request carries over.
    private func recycle(_ handle: EasyHandle) {
        guard idleHandles.count < configuration.requests.maxIdleHandles else { return }
        handle.reset()
        idleHandles.append(handle)
    }

    private func deliverCompletions() {
        guard !completions.isEmpty else { return }
        let due = completions
        completions.removeAll(keepingCapacity: true)
        for (completion, outcome) in due { completion(outcome) }
    }

    // MARK: - Shutting down

    private func shutDown() {
        let reason = "because the client was closed"
        for easy in Array(running.keys) {
            guard let entry = remove(easy) else { continue }
            completions.append((entry.completion, .failure(.cancelled(target: entry.transfer.target, reason: reason))))
        }
        for key in waitingHosts {
            while let submission = waiting[key]?.popFirst() {
                leftWaiting += 1
                completions.append((submission.completion, .failure(.cancelled(target: submission.target, reason: reason))))
            }
        }
        waiting.removeAll()
        waitingHosts.removeAll()
        waitingHostOf.removeAll()
        _ = syncLoad()
        deliverCompletions()
        // Every easy handle is off the multi handle now; close the cached connections here rather
        // than whenever the last reference to the client goes. Under the inbox mutex, so no
        // wakeup can reach the handle while it is being freed.
        idleHandles.removeAll()
        shared.inbox.withLock { _ in shared.multi.cleanUp() }
    }
}

/// A FIFO of waiting submissions for one host: amortised O(1) at both ends.
private struct HostQueue {
    private var items: [MultiSubmission?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ submission: MultiSubmission) {
        items.append(submission)
        count += 1
    }

    mutating func popFirst() -> MultiSubmission? {
        while head < items.count {
            let item = items[head]
            items[head] = nil
            head += 1
            if let item {
                count -= 1
                compactIfWorthIt()
                return item
            }
        }
        return nil
    }

    /// Takes one submission out of the middle (a cancellation); nil if it is not here.
    mutating func remove(_ id: OutboundHTTPMultiClient.TransferID) -> MultiSubmission? {
        guard let index = items[head...].firstIndex(where: { $0?.id == id }), let item = items[index] else { return nil }
        items[index] = nil
        count -= 1
        return item
    }

    private mutating func compactIfWorthIt() {
        if head > 64, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
