import Glibc

/// A thin wrapper over one epoll instance. Owned (and closed) by its event loop.
struct Epoll {
    let fd: Int32

    init() throws {
        let fd = LinuxAPI.epollCreate1(LinuxAPI.EPOLL_CLOEXEC)
        guard fd >= 0 else { throw SocketError.makeFailed("epoll_create1") }
        self.fd = fd
    }

    func add(_ descriptor: Int32, events: UInt32, data: UInt64) throws {
        try control(LinuxAPI.EPOLL_CTL_ADD, descriptor, events: events, data: data)
    }

    func modify(_ descriptor: Int32, events: UInt32, data: UInt64) throws {
        try control(LinuxAPI.EPOLL_CTL_MOD, descriptor, events: events, data: data)
    }

    /// Removing is optional before `close` (the kernel drops closed descriptors) but is needed
    /// when a descriptor stays open while it should stop reporting (a paused listener).
    func remove(_ descriptor: Int32) {
        _ = LinuxAPI.epollCtl(fd, LinuxAPI.EPOLL_CTL_DEL, descriptor, nil)
    }

    private func control(_ operation: Int32, _ descriptor: Int32, events: UInt32, data: UInt64) throws {
        var event = (UInt64(0), UInt64(0))  // 16 bytes covers both layouts
        let result = withUnsafeMutableBytes(of: &event) { raw -> Int32 in
            raw.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: data, toByteOffset: LinuxAPI.epollEventDataOffset, as: UInt64.self)
            return LinuxAPI.epollCtl(fd, operation, descriptor, raw.baseAddress)
        }
        guard result == 0 else { throw SocketError.makeFailed("epoll_ctl") }
    }

    /// Waits for events; returns how many were stored, 0 on timeout or `EINTR`.
    func wait(into buffer: EpollEventBuffer, timeoutMilliseconds: Int32) -> Int {
        let count = LinuxAPI.epollWait(fd, buffer.storage.baseAddress, Int32(buffer.capacity), timeoutMilliseconds)
        if count < 0 {
            // EINTR (a signal landed on this thread) is the only expected failure; anything else
            // would be a programming error (bad fd), reported by returning no events.
            return 0
        }
        return Int(count)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

/// A reusable array of `struct epoll_event`, read through the platform's layout.
final class EpollEventBuffer {
    let capacity: Int
    let storage: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        self.capacity = capacity
        self.storage = .allocate(byteCount: capacity * LinuxAPI.epollEventSize, alignment: 8)
    }

    deinit { storage.deallocate() }

    func events(at index: Int) -> UInt32 {
        storage.loadUnaligned(fromByteOffset: index * LinuxAPI.epollEventSize, as: UInt32.self)
    }

    func data(at index: Int) -> UInt64 {
        storage.loadUnaligned(
            fromByteOffset: index * LinuxAPI.epollEventSize + LinuxAPI.epollEventDataOffset, as: UInt64.self)
    }
}
