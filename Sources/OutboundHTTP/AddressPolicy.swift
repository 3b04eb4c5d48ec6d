#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which IP addresses outbound requests to third parties (webhook endpoints) may reach.
///
/// A URL given by a tenant must not become a way into the receiver's own network: loopback,
/// private (RFC 1918, unique local), shared (CGNAT), link-local (cloud metadata services live at
/// 169.254.169.254), unspecified, multicast and reserved addresses are refused, unless the
/// deployment allows them (tests and on-premises installations reach their endpoints there).
/// IPv6 forms that embed an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address.
///
/// The rule is applied twice: when an endpoint is created (``resolveRefusal(host:)``), and by
/// libcurl at every connect (``OutboundRequest/allowPrivateAddresses``), because a DNS answer
/// can change between the two.
public enum AddressPolicy {
    /// Why `address` (numeric IPv4 or IPv6 text, IPv6 with or without brackets) is not a public
    /// address — "loopback", "private", "link-local", … — or nil when it is one. Text that is no
    /// IP address is refused too ("not an IP address").
    public static func refusal(_ address: String) -> String? {
        var text = address
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return refusal(ipv4: UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            return refusal(ipv6: bytes)
        }
        return "not an IP address"
    }

    /// IPv4, as a host-order number.
    static func refusal(ipv4 a: UInt32) -> String? {
        func inNet(_ net: UInt32, _ bits: UInt32) -> Bool {
            bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits))
        }
        if inNet(0x7F00_0000, 8) { return "loopback" }
        if inNet(0x0A00_0000, 8) || inNet(0xAC10_0000, 12) || inNet(0xC0A8_0000, 16) { return "private" }
        if inNet(0xA9FE_0000, 16) { return "link-local" }
        if inNet(0x6440_0000, 10) { return "shared (carrier-grade NAT)" }
        if inNet(0x0000_0000, 8) { return "unspecified" }
        if inNet(0xE000_0000, 4) { return "multicast" }
        // 240/4 reserved with the broadcast address; IETF protocol assignments; benchmarking; documentation.
        if inNet(0xF000_0000, 4) || inNet(0xC000_0000, 24) || inNet(0xC612_0000, 15)
            || inNet(0xC000_0200, 24) || inNet(0xC633_6400, 24) || inNet(0xCB00_7100, 24) {
            return "reserved"
        }
        return nil
    }

    /// IPv6, as its 16 bytes in network order.
    static func refusal(ipv6 b: [UInt8]) -> String? {
        func ipv4(at offset: Int) -> UInt32 {
            b[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let firstTenZero = b[0..<10].allSatisfy { $0 == 0 }
        if firstTenZero && b[10] == 0xFF && b[11] == 0xFF { return refusal(ipv4: ipv4(at: 12)) }  // ::ffff:a.b.c.d
        if b[0..<12].allSatisfy({ $0 == 0 }) {
            if b[12..<15].allSatisfy({ $0 == 0 }) && b[15] <= 1 { return b[15] == 1 ? "loopback" : "unspecified" }
            return refusal(ipv4: ipv4(at: 12))  // ::a.b.c.d, deprecated IPv4-compatible
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..<12].allSatisfy({ $0 == 0 }) {
            return refusal(ipv4: ipv4(at: 12))  // 64:ff9b::/96 NAT64
        }
        if b[0] == 0x20 && b[1] == 0x02 { return refusal(ipv4: ipv4(at: 2)) }  // 2002::/16 6to4
        if b[0] & 0xFE == 0xFC { return "private (unique local)" }  // fc00::/7
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local" }  // fe80::/10
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return "site-local" }  // fec0::/10, deprecated
        if b[0] == 0xFF { return "multicast" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "reserved (documentation)" }
        return nil
    }

    /// Resolves `host` (a name, or an IP address, IPv6 in brackets or not) and says why it may
    /// not be reached — the first refused address with its reason, e.g. `"127.0.0.1 is loopback"`,
    /// or that it does not resolve — or nil when every address it resolves to is public.
    /// Blocks for the DNS lookup: call it off the cooperative pool.
    public static func resolveRefusal(host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let list else {
            return "\(host) does not resolve (\(String(cString: gai_strerror(status))))"
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let address = numericAddress(current.pointee), let reason = refusal(address) {
                return "\(host) resolves to \(address), which is \(reason)"
            }
            entry = current.pointee.ai_next
        }
        return nil
    }

    private static func numericAddress(_ info: addrinfo) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(info.ai_addr, info.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
        else { return nil }
        return String(cString: buffer)
    }
}

extension AddressPolicy {
    /// The scheme (lower case) and host of `url`, read by libcurl's URL parser exactly as a
    /// transfer would read it.
    ///
    /// - Throws: ``OutboundHTTPError`` of kind `.invalidURL` for a URL libcurl cannot use or
    ///   one with credentials in it; the message says what to fix.
    public static func schemeAndHost(of url: String) throws(OutboundHTTPError) -> (scheme: String, host: String) {
        guard !url.utf8.contains(0) else { throw OutboundHTTPError(kind: .invalidURL, message: "the URL contains a NUL byte") }
        let target = try RequestTarget.parse(url)
        return (target.scheme, target.host)
    }
}
