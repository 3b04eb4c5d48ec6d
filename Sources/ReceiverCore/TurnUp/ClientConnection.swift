#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The public address at which the Connector reaches this receiver for one
/// client: what the turn-up sheet's base URL is made of, and what `verify` calls.
public struct ClientConnection: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// A DNS name, an IPv4 address, or an IPv6 address without brackets.
    public var host: String
    /// 1…65535.
    public var port: Int

    /// The schemes the Connector can call.
    public static let schemes = ["http", "https"]

    public init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The scheme's default port: 443 for `https`, else 80.
    package static func defaultPort(for scheme: String) -> Int { scheme == "https" ? 443 : 80 }

    /// `scheme://host[:port]`: the port only when it is not the scheme's default,
    /// an IPv6 host in brackets (RFC 3986 §3.2.2). The Connector appends `/v1/...`.
    public var baseURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let portPart = port == Self.defaultPort(for: scheme) ? "" : ":\(port)"
        return "\(scheme)://\(hostPart)\(portPart)"
    }

    /// The `Connection` schema of openapi.yaml, as stored in `clients.connection`.
    public var json: JSONObject {
        ["scheme": .string(scheme), "host": .string(host), "port": .number(Double(port))]
    }

    /// Reads a stored connection (validated when written).
    package init(stored object: JSONObject) {
        scheme = object["scheme"]?.stringValue ?? "https"
        host = object["host"]?.stringValue ?? ""
        if case .number(let number)? = object["port"], let port = Int(exactly: number) {
            self.port = port
        } else {
            self.port = Self.defaultPort(for: scheme)
        }
    }

    /// Parses a base URL such as `https://receiver.example.com` or
    /// `http://127.0.0.1:8080` (`RECEIVER_PUBLIC_URL`, `--connection`). A path
    /// other than `/`, a query, a fragment or credentials are refused: the
    /// Connector appends `/v1/...` to the bare origin.
    public static func parse(url text: String) -> Result<ClientConnection, ConnectionURLError> {
        let trimmed = text.trimmingWhitespace()
        guard let components = URLComponents(string: trimmed), let rawScheme = components.scheme?.lowercased() else {
            return .failure(ConnectionURLError("\(text) is not a URL; write it as https://receiver.example.com or http://host:port"))
        }
        guard schemes.contains(rawScheme) else {
            return .failure(ConnectionURLError("\(text) must start with http:// or https://"))
        }
        guard components.user == nil, components.password == nil else {
            return .failure(ConnectionURLError("\(text) must not carry a user name or password"))
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            return .failure(ConnectionURLError("\(text) must be the bare origin (scheme://host[:port]) with no path, query or fragment"))
        }
        var host = components.host ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard isValidHost(host) else {
            return .failure(ConnectionURLError("\(text) has no valid host name or IP address"))
        }
        let port = components.port ?? defaultPort(for: rawScheme)
        guard (1...65_535).contains(port) else {
            return .failure(ConnectionURLError("\(text) has a port outside 1-65535"))
        }
        return .success(ClientConnection(scheme: rawScheme, host: host, port: port))
    }

    /// A DNS name or IPv4 address (letters, digits, hyphens in dot-separated
    /// labels of at most 63, at most 253 in all), or an IPv6 address.
    package static func isValidHost(_ host: String) -> Bool {
        if host.contains(":") {
            var address = in6_addr()
            return inet_pton(AF_INET6, host, &address) == 1
        }
        guard (1...253).contains(host.utf8.count) else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                }
        }
    }

    /// Reads the members of a `connection` object. With `base`, members left
    /// out keep the base's value (a merge patch); without it all three are
    /// required. No member may be `null`.
    package static func read(_ reader: inout FieldReader, object: JSONObject, base: ClientConnection?) -> ClientConnection? {
        var result = base ?? ClientConnection(scheme: "", host: "", port: 0)
        var complete = true
        for name in ["scheme", "host", "port"] {
            switch object[name] {
            case nil:
                if base == nil {
                    reader.fail(name, "is required")
                    complete = false
                }
                continue
            case .null?:
                reader.fail(name, "must not be null")
                complete = false
                continue
            default:
                break
            }
            switch name {
            case "scheme":
                if let scheme = reader.choice("scheme", of: schemes) { result.scheme = scheme } else { complete = false }
            case "host":
                guard let host = reader.string("host", required: true, maxLength: 253) else { complete = false; continue }
                guard isValidHost(host) else {
                    reader.fail("host", "must be a DNS name (receiver.example.com), an IPv4 address or an IPv6 address without brackets")
                    complete = false
                    continue
                }
                result.host = host
            default:
                if let port = reader.integer("port", in: 1...65_535) { result.port = port } else { complete = false }
            }
        }
        return complete ? result : nil
    }
}

/// Why a connection URL was refused, for the operator.
public struct ConnectionURLError: Error, Sendable, CustomStringConvertible {
    public let description: String

    package init(_ description: String) {
        self.description = description
    }
}
