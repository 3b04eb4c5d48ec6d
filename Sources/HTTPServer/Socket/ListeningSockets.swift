import Glibc

/// Creates the bound, listening, non-blocking sockets the event loops accept on.
enum ListeningSockets {
    /// Binds `count` listening sockets to `host:port`.
    ///
    /// With more than one socket each gets `SO_REUSEPORT`, so every event loop accepts on its
    /// own socket and the kernel spreads new connections across them: no cross-thread hand-off
    /// per connection and no thundering herd. `SO_REUSEPORT` would also let a second copy of
    /// the server silently share a port already in use, so a plain probe socket is bound first
    /// to detect that and fail with "port N already in use" (and, for port 0, to pick the port).
    ///
    /// - Returns: the descriptors (owned by the caller from now on) and the bound address.
    static func bind(host: String, port: Int, count: Int, backlog: Int32) throws -> (fds: [Int32], address: SocketAddress) {
        precondition(count >= 1)
        guard (0...65535).contains(port) else {
            throw SocketError(
                kind: .addressUnavailable, operation: "bind", errno: 0,
                message: "port \(port) is out of range (0-65535)")
        }
        var storage = try resolve(host: host, port: port)
        let family = Int32(withUnsafeBytes(of: &storage) { $0.load(as: sockaddr.self).sa_family })

        if count > 1 {
            let probe = try makeSocket(family: family, host: host, port: port, reusePort: false)
            defer { _ = close(probe) }
            try bindSocket(probe, storage: &storage, host: host, port: port)
            let bound = try localAddress(of: probe)
            setPort(bound.port, in: &storage)
        }

        var fds: [Int32] = []
        do {
            for _ in 0..<count {
                let fd = try makeSocket(family: family, host: host, port: port, reusePort: count > 1)
                fds.append(fd)
                try bindSocket(fd, storage: &storage, host: host, port: port)
                if fds.count == 1 && count == 1 {
                    setPort(try localAddress(of: fd).port, in: &storage)
                }
                guard listen(fd, backlog) == 0 else { throw SocketError.makeFailed("listen") }
            }
            return (fds, try localAddress(of: fds[0]))
        } catch {
            for fd in fds { _ = close(fd) }
            throw error
        }
    }

    /// The local address a socket is bound to.
    static func localAddress(of fd: Int32) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError.makeFailed("getsockname") }
        guard let address = withUnsafeBytes(of: &storage, { SocketAddress(storage: $0.baseAddress!) }) else {
            throw SocketError.makeFailed("getsockname", errno: EAFNOSUPPORT)
        }
        return address
    }

    private static func resolve(host: String, port: Int) throws -> sockaddr_storage {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            let reason = status == EAI_SYSTEM ? SocketError.describe(errno: errno) : String(cString: gai_strerror(status))
            throw SocketError(
                kind: .resolutionFailed, operation: "getaddrinfo", errno: 0,
                message: "cannot resolve listen host '\(host)': \(reason)")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return storage
    }

    private static func makeSocket(family: Int32, host: String, port: Int, reusePort: Bool) throws -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | LinuxAPI.SOCK_NONBLOCK_FLAG | LinuxAPI.SOCK_CLOEXEC_FLAG
        let fd = socket(family, type, 0)
        guard fd >= 0 else {
            let code = errno
            if code == EAFNOSUPPORT {
                throw SocketError(
                    kind: .addressUnavailable, operation: "socket", errno: code,
                    message: "cannot listen on '\(host)': this machine does not support its address family (IPv6 disabled?)")
            }
            throw SocketError.makeFailed("socket", errno: code)
        }
        do {
            // SO_REUSEADDR: restart without waiting for TIME_WAIT connections of the old process.
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            // Binding "::" accepts IPv4 too (dual stack) whatever the system default is.
            if family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
        } catch {
            _ = close(fd)
            throw error
        }
        return fd
    }

    private static func bindSocket(_ fd: Int32, storage: inout sockaddr_storage, host: String, port: Int) throws {
        let length = socklen_t(storage.ss_family == sa_family_t(AF_INET6)
            ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard result == 0 else {
            let code = errno
            switch code {
            case EADDRINUSE:
                throw SocketError(
                    kind: .addressInUse, operation: "bind", errno: code,
                    message: "port \(port) already in use (host \(host)); stop the other process or choose another port")
            case EACCES:
                throw SocketError(
                    kind: .permissionDenied, operation: "bind", errno: code,
                    message: "permission denied binding port \(port): ports below 1024 need privileges")
            case EADDRNOTAVAIL:
                throw SocketError(
                    kind: .addressUnavailable, operation: "bind", errno: code,
                    message: "cannot listen on '\(host)': the address is not available on this machine")
            default:
                throw SocketError.makeFailed("bind", errno: code)
            }
        }
    }

    private static func setPort(_ port: Int, in storage: inout sockaddr_storage) {
        withUnsafeMutableBytes(of: &storage) { raw in
            // sin_port and sin6_port share the offset right after the family.
            raw.storeBytes(of: UInt16(port).bigEndian, toByteOffset: MemoryLayout<sa_family_t>.size, as: UInt16.self)
        }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError.makeFailed("setsockopt")
        }
    }
}
