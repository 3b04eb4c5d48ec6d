import Synchronization

/// What other threads tell an event loop.
enum LoopMessage: Sendable {
    /// A worker finished the request in flight on connection `fd` (generation `connectionID`).
    case completed(fd: Int32, connectionID: UInt64, response: Response)
    /// Stop accepting; close idle connections; finish the rest with `Connection: close`.
    case beginShutdown
    /// Close everything now and end the loop.
    case stop
}

/// The thread-safe face of an event loop: a mailbox and the eventfd that wakes the loop.
///
/// Only the loop's own thread touches its connections; everything else arrives here. The
/// eventfd is signalled only when the mailbox goes from empty to non-empty, so a burst of
/// completions costs one wake-up. The eventfd is closed when the last reference goes away,
/// which is after every worker that could still signal it has dropped its reference.
final class EventLoopHandle: Sendable {
    private struct Mailbox {
        var messages: [LoopMessage] = []
        var closed = false
    }

    let index: Int
    let wakeup: Wakeup
    private let mailbox = Mutex(Mailbox())

    init(index: Int) throws {
        self.index = index
        self.wakeup = try Wakeup()
    }

    deinit {
        wakeup.close()
    }

    /// Delivers `message`; dropped if the loop has ended.
    func send(_ message: LoopMessage) {
        let shouldWake = mailbox.withLock { mailbox -> Bool in
            guard !mailbox.closed else { return false }
            mailbox.messages.append(message)
            return mailbox.messages.count == 1
        }
        if shouldWake { wakeup.signal() }
    }

    /// Called by the loop: takes everything delivered so far.
    func takeMessages() -> [LoopMessage] {
        mailbox.withLock { mailbox in
            let messages = mailbox.messages
            mailbox.messages = []
            return messages
        }
    }

    /// Called by the loop as it ends; later messages are dropped.
    func close() {
        mailbox.withLock { mailbox in
            mailbox.closed = true
            mailbox.messages = []
        }
    }
}
