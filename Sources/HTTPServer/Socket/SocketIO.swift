import Glibc

/// The outcome of one non-blocking read or write.
enum IOResult {
    case transferred(Int)
    case wouldBlock
    case endOfFile
    case failed(Int32)
}

/// Non-blocking socket reads and writes with `EINTR` retried.
enum SocketIO {
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfFile }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(code)
        }
    }

    /// `send` with `MSG_NOSIGNAL`: a peer that went away yields `EPIPE`, not a process-killing
    /// SIGPIPE (the server also ignores SIGPIPE process-wide, for libpq and libcurl).
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(code)
        }
    }

    /// Accepts one connection as non-blocking and close-on-exec.
    static func accept(_ listener: Int32, address: UnsafeMutablePointer<sockaddr_storage>) -> (fd: Int32, errno: Int32) {
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = address.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                LinuxAPI.accept4(listener, $0, &length, LinuxAPI.SOCK_NONBLOCK_FLAG | LinuxAPI.SOCK_CLOEXEC_FLAG)
            }
            if fd >= 0 { return (fd, 0) }
            let code = errno
            if code == EINTR { continue }
            return (-1, code)
        }
    }

    /// `close` is not retried on EINTR: on Linux the descriptor is released even then, and a
    /// retry could close a descriptor another thread just received.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
