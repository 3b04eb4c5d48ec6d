/// ASCII character classes of RFC 9110 / RFC 3986, as branch-cheap lookups.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let plus: UInt8 = 0x2B
    static let equals: UInt8 = 0x3D
    static let ampersand: UInt8 = 0x26

    /// 256 bits per class: bit set = member.
    private static let tcharTable: [UInt64] = table { byte in
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
        //   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        isAlphaNumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
    private static let pathCharTable: [UInt64] = table { byte in
        // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@", plus "/"
        // between segments. "%" is validated separately (it must start an escape).
        isAlphaNumeric(byte) || "-._~!$&'()*+,;=:@/".utf8.contains(byte)
    }
    private static let queryCharTable: [UInt64] = table { byte in
        // RFC 3986 §3.4: query = *( pchar / "/" / "?" )
        isAlphaNumeric(byte) || "-._~!$&'()*+,;=:@/?".utf8.contains(byte)
    }
    private static let fieldValueTable: [UInt64] = table { byte in
        // RFC 9110 §5.5: field-vchar = VCHAR / obs-text, with SP and HTAB inside the value.
        // Everything else — NUL, CR, LF, other controls, DEL — is rejected.
        byte == 0x09 || byte == 0x20 || (0x21...0x7E).contains(byte) || byte >= 0x80
    }
    private static let authorityCharTable: [UInt64] = table { byte in
        // RFC 3986 §3.2: userinfo is forbidden in http(s) URIs (RFC 9110 §4.2.4), so a Host is
        // reg-name / IP-literal / IPv4address with an optional port.
        isAlphaNumeric(byte) || "-._~!$&'()*+,;=:[]%".utf8.contains(byte)
    }

    private static func table(_ member: (UInt8) -> Bool) -> [UInt64] {
        var bits = [UInt64](repeating: 0, count: 4)
        for value in 0...255 where member(UInt8(value)) {
            bits[value >> 6] |= 1 << UInt64(value & 63)
        }
        return bits
    }

    @inline(__always)
    private static func lookup(_ table: [UInt64], _ byte: UInt8) -> Bool {
        table.withUnsafeBufferPointer { ($0[Int(byte >> 6)] >> UInt64(byte & 63)) & 1 == 1 }
    }

    @inline(__always) static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    @inline(__always) static func isTokenChar(_ byte: UInt8) -> Bool { lookup(tcharTable, byte) }
    @inline(__always) static func isPathChar(_ byte: UInt8) -> Bool { lookup(pathCharTable, byte) }
    @inline(__always) static func isQueryChar(_ byte: UInt8) -> Bool { lookup(queryCharTable, byte) }
    @inline(__always) static func isFieldValueChar(_ byte: UInt8) -> Bool { lookup(fieldValueTable, byte) }
    @inline(__always) static func isAuthorityChar(_ byte: UInt8) -> Bool { lookup(authorityCharTable, byte) }
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always) static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    /// ASCII case-insensitive comparison of bytes with a lowercase literal.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let literal = lowercase.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != literal[index] {
            return false
        }
        return true
    }

    /// ASCII lowercase of a letter; other bytes unchanged.
    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Strips optional whitespace (SP / HTAB) from both ends.
    @inline(__always)
    static func trimmingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && isWhitespace(bytes[start]) { start += 1 }
        while end > start && isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}
