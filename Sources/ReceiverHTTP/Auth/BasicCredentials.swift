import HTTPServer

/// The `Authorization: Basic` header of a request (RFC 7617).
enum BasicCredentials {
    /// The (username, password) of a `Basic` Authorization header, if well formed
    /// (RFC 7617: the scheme is case-insensitive; user-id and password split at the
    /// first colon). On every `/v1` request, so without Foundation's string bridging.
    static func parse(_ request: Request) -> (username: String, password: String)? {
        guard var header = request.headerFields.value(of: .authorization) else { return nil }
        return header.withUTF8 { bytes -> (String, String)? in
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var value = bytes[...]
            while let first = value.first, isBlank(first) { value.removeFirst() }
            while let last = value.last, isBlank(last) { value.removeLast() }
            let scheme = "basic".utf8
            guard value.count > scheme.count, value[value.startIndex + scheme.count] == UInt8(ascii: " "),
                  zip(value, scheme).allSatisfy({ $0 | 0x20 == $1 })
            else { return nil }
            var token = value.dropFirst(scheme.count + 1)
            while let first = token.first, isBlank(first) { token.removeFirst() }
            guard let decoded = Base64.decode(token), let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let username = String(validating: decoded[..<colon], as: UTF8.self),
                  let password = String(validating: decoded[(colon + 1)...], as: UTF8.self)
            else { return nil }
            return (username, password)
        }
    }
}
