import Glibc

/// The Linux system calls that Swift's `Glibc` module does not import.
///
/// Swift's Glibc module map includes neither `<sys/epoll.h>` nor `<sys/eventfd.h>`, and it is
/// compiled without `_GNU_SOURCE`, so `accept4` and `pthread_setname_np` are missing too. A C shim target would be the
/// conventional fix, but this module may not add targets; instead the functions are looked up
/// once with `dlsym` and called through `@convention(c)` function pointers, which gives exactly
/// the C calling convention (unlike `@_silgen_name`). The constants below are the kernel ABI
/// values, identical on x86_64 and aarch64.
enum LinuxAPI {
    typealias EpollCreate1 = @convention(c) (Int32) -> Int32
    typealias EpollCtl = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias Accept4 = @convention(c) (
        Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32
    ) -> Int32

    static let epollCreate1: EpollCreate1 = symbol("epoll_create1")
    static let epollCtl: EpollCtl = symbol("epoll_ctl")
    static let epollWait: EpollWait = symbol("epoll_wait")
    static let eventFD: EventFD = symbol("eventfd")
    static let accept4: Accept4 = symbol("accept4")
    typealias SetThreadName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32
    static let setThreadName: SetThreadName = symbol("pthread_setname_np")
    typealias GetTID = @convention(c) () -> Int32
    static let getTID: GetTID = symbol("gettid")
    // `which` is an enum only under _GNU_SOURCE; the ABI is int, id_t is unsigned int.
    typealias GetPriority = @convention(c) (Int32, UInt32) -> Int32
    typealias SetPriority = @convention(c) (Int32, UInt32, Int32) -> Int32
    static let getPriority: GetPriority = symbol("getpriority")
    static let setPriority: SetPriority = symbol("setpriority")
    static let PRIO_PROCESS: Int32 = 0

    /// The calling thread's nice value (Linux keeps one per thread).
    static func currentThreadNiceness() -> Int32? {
        errno = 0
        let value = getPriority(PRIO_PROCESS, UInt32(bitPattern: getTID()))
        return value == -1 && errno != 0 ? nil : value
    }

    /// Raises the calling thread's nice value by `increment` (at most to 19), lowering its
    /// CPU share against the process's other threads. Needs no privilege. False on failure.
    @discardableResult
    static func lowerCurrentThreadPriority(by increment: Int32) -> Bool {
        guard let current = currentThreadNiceness() else { return false }
        return setPriority(PRIO_PROCESS, UInt32(bitPattern: getTID()), min(19, current + increment)) == 0
    }

    // <sys/epoll.h>
    static let EPOLLIN: UInt32 = 0x001
    static let EPOLLOUT: UInt32 = 0x004
    static let EPOLLERR: UInt32 = 0x008
    static let EPOLLHUP: UInt32 = 0x010
    static let EPOLLRDHUP: UInt32 = 0x2000
    static let EPOLLET: UInt32 = 1 << 31
    static let EPOLL_CTL_ADD: Int32 = 1
    static let EPOLL_CTL_DEL: Int32 = 2
    static let EPOLL_CTL_MOD: Int32 = 3
    static let EPOLL_CLOEXEC: Int32 = O_CLOEXEC
    // <sys/eventfd.h>
    static let EFD_CLOEXEC: Int32 = O_CLOEXEC
    static let EFD_NONBLOCK: Int32 = O_NONBLOCK
    // <sys/socket.h> accept4 flags
    static let SOCK_NONBLOCK_FLAG: Int32 = O_NONBLOCK
    static let SOCK_CLOEXEC_FLAG: Int32 = O_CLOEXEC

    /// `struct epoll_event` is `__attribute__((packed))` on x86_64 (12 bytes, data at offset 4)
    /// and naturally aligned elsewhere (16 bytes, data at offset 8).
    #if arch(x86_64)
    static let epollEventSize = 12
    static let epollEventDataOffset = 4
    #else
    static let epollEventSize = 16
    static let epollEventDataOffset = 8
    #endif

    private static func symbol<F>(_ name: String) -> F {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else {
            fatalError("HTTPServer: the C library does not export \(name); Linux with glibc is required")
        }
        return unsafeBitCast(pointer, to: F.self)
    }
}
