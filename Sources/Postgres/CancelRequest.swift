import CLibPQ
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks the server to cancel the statement of a session the client has given up on
/// (`PQcancel`), without waiting for the answer.
///
/// `PQcancel` opens a connection of its own and waits until the server has read the
/// request and closed it; libpq 15 puts no time limit on that wait, and a server that
/// did not answer the statement in time will likely not answer this either. So each
/// request runs on a detached thread of its own and the caller goes on at once. The
/// cancel is a courtesy to the server (it ends the abandoned statement and frees its
/// locks as soon as the server can act); nothing on the client depends on it.
///
/// At most ``limit`` requests are under way at once, so a server that stays hung
/// cannot pile up threads; past that, a cancel is skipped and logged.
enum CancelRequest {
    static let limit = 16
    private static let underWay = Atomic<Int>(0)

    /// Sends `cancel` (from `PQgetCancel`, which this takes ownership of and frees) on
    /// a thread of its own.
    static func send(_ cancel: OpaquePointer, backendPID: Int32, logger: Logger) {
        guard underWay.add(1, ordering: .relaxed).newValue <= limit else {
            underWay.subtract(1, ordering: .relaxed)
            PQfreeCancel(cancel)
            logger.warning(
                "not sending a cancel request: \(limit) earlier ones are still waiting for the server",
                metadata: ["backend_pid": "\(backendPID)"]
            )
            return
        }
        let job = Unmanaged.passRetained(Job(cancel: cancel, backendPID: backendPID, logger: logger)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, job)
        if started == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Job>.fromOpaque(job).takeRetainedValue().skip(reason: "pthread_create failed (\(started))")
        }
    }

    /// One cancel request, owned by the thread that sends it.
    private final class Job {
        let cancel: OpaquePointer
        let backendPID: Int32
        let logger: Logger

        init(cancel: OpaquePointer, backendPID: Int32, logger: Logger) {
            self.cancel = cancel
            self.backendPID = backendPID
            self.logger = logger
        }

        func run() {
            // 256 bytes: the size libpq's documentation recommends.
            var message = [CChar](repeating: 0, count: 256)
            if PQcancel(cancel, &message, Int32(message.count)) == 0 {
                logger.notice(
                    "the cancel request for an abandoned statement failed: \(message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })",
                    metadata: ["backend_pid": "\(backendPID)"]
                )
            }
            finish()
        }

        func skip(reason: String) {
            logger.warning("not sending a cancel request: \(reason)", metadata: ["backend_pid": "\(backendPID)"])
            finish()
        }

        private func finish() {
            PQfreeCancel(cancel)
            CancelRequest.underWay.subtract(1, ordering: .relaxed)
        }
    }
}
