import Glibc

/// An `eventfd` used to wake an event loop from other threads (workers handing back
/// responses, shutdown requests). Writes coalesce in the kernel counter, so many wake-ups
/// cost one `epoll_wait` return and one `read`.
struct Wakeup {
    let fd: Int32

    init() throws {
        let fd = LinuxAPI.eventFD(0, LinuxAPI.EFD_CLOEXEC | LinuxAPI.EFD_NONBLOCK)
        guard fd >= 0 else { throw SocketError.makeFailed("eventfd") }
        self.fd = fd
    }

    /// Safe from any thread while the descriptor is open.
    func signal() {
        var one: UInt64 = 1
        while Glibc.write(fd, &one, 8) < 0 && errno == EINTR {}
        // EAGAIN means the counter is saturated: the loop is already due to wake.
    }

    /// Resets the counter; called by the loop only.
    func drain() {
        var value: UInt64 = 0
        while Glibc.read(fd, &value, 8) < 0 && errno == EINTR {}
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
