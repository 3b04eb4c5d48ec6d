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
    static let doubleQuote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    // The classes are plain switches rather than lookup tables: a table is a global array,
    // and every use from two event-loop threads would retain and release the same buffer,
    // bouncing its reference count between cores.

    @inline(__always) static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
    ///   "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    @inline(__always) static func isTokenChar(_ byte: UInt8) -> Bool {
        if isAlphaNumeric(byte) { return true }
        switch byte {
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// RFC 3986 §2.3 unreserved minus ALPHA / DIGIT, and §2.2 sub-delims: - . _ ~ ! $ & ' ( ) * + , ; =
    @inline(__always) private static func isUnreservedOrSubDelimiter(_ byte: UInt8) -> Bool {
        if isAlphaNumeric(byte) { return true }
        switch byte {
        case 0x2D, 0x2E, 0x5F, 0x7E, 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: return true
        default: return false
        }
    }

    /// RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@", plus "/"
    /// between segments. "%" is validated separately (it must start an escape).
    @inline(__always) static func isPathChar(_ byte: UInt8) -> Bool {
        isUnreservedOrSubDelimiter(byte) || byte == 0x3A || byte == 0x40 || byte == 0x2F
    }

    /// RFC 3986 §3.4: query = *( pchar / "/" / "?" )
    @inline(__always) static func isQueryChar(_ byte: UInt8) -> Bool {
        isPathChar(byte) || byte == 0x3F
    }

    /// RFC 9110 §5.5: field-vchar = VCHAR / obs-text, with SP and HTAB inside the value.
    /// Everything else — NUL, CR, LF, other controls, DEL — is rejected.
    @inline(__always) static func isFieldValueChar(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    /// RFC 3986 §3.2: userinfo is forbidden in http(s) URIs (RFC 9110 §4.2.4), so a Host is
    /// reg-name / IP-literal / IPv4address with an optional port (and pct-encoded octets).
    @inline(__always) static func isAuthorityChar(_ byte: UInt8) -> Bool {
        isUnreservedOrSubDelimiter(byte) || byte == 0x3A || byte == 0x5B || byte == 0x5D || byte == 0x25
    }

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
