import Glibc

/// An IPv4 or IPv6 socket address (host and port), stored inline without allocation.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6
    }

    /// IPv4 or IPv6.
    public let family: Family
    /// The port, in host byte order.
    public let port: Int
    // The address bytes in network order: IPv4 uses the low 4 bytes of `high`.
    private let high: UInt64
    private let low: UInt64
    private let scopeID: UInt32

    /// Reads a `sockaddr_in` / `sockaddr_in6` from storage filled by `accept` or `getsockname`.
    init?(storage: UnsafeRawPointer) {
        let family = storage.load(as: sockaddr.self).sa_family
        switch Int32(family) {
        case AF_INET:
            let address = storage.load(as: sockaddr_in.self)
            self.family = .ipv4
            self.port = Int(UInt16(bigEndian: address.sin_port))
            self.high = UInt64(address.sin_addr.s_addr)
            self.low = 0
            self.scopeID = 0
        case AF_INET6:
            let address = storage.load(as: sockaddr_in6.self)
            self.family = .ipv6
            self.port = Int(UInt16(bigEndian: address.sin6_port))
            var bytes = address.sin6_addr
            (self.high, self.low) = withUnsafeBytes(of: &bytes) { raw in
                (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
            self.scopeID = address.sin6_scope_id
        default:
            return nil
        }
    }

    /// The numeric host, e.g. `127.0.0.1` or `::1`.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch family {
        case .ipv4:
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: high))
            _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        case .ipv6:
            var words = (high, low)
            withUnsafeBytes(of: &words) { raw in
                _ = inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count))
            }
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `host:port`, with IPv6 hosts in brackets (`[::1]:8080`).
    public var description: String {
        switch family {
        case .ipv4: return "\(host):\(port)"
        case .ipv6: return "[\(host)]:\(port)"
        }
    }
}
