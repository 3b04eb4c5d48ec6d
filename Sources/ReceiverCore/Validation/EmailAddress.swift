/// A pragmatic email syntax check: what a club system can deliver to, not the
/// whole of RFC 5321. One `@`; a local part of 1–64 visible characters without
/// spaces, quotes or brackets; a domain of dot-separated labels (letters, digits,
/// hyphens, non-ASCII letters for IDNs), at least two, each 1–63 long and not
/// starting or ending with a hyphen.
package enum EmailAddress {
    package static func isValid(_ address: String) -> Bool {
        // Nearly every address is ASCII: checked over its bytes, it costs a
        // fraction of the general check below (which a save runs for every email).
        var address = address
        if let verdict = address.withUTF8(asciiVerdict) { return verdict }
        return isValidUnicode(address)
    }

    /// The same rules as `isValidUnicode` for an all-ASCII address; nil for any other.
    package static func asciiVerdict(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
        guard bytes.count <= 254, let at = bytes.firstIndex(of: UInt8(ascii: "@")),
              !bytes[(at + 1)...].contains(UInt8(ascii: "@"))
        else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard (1...64).contains(local.count), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }),
              local.allSatisfy({ isLocalPartScalar(Unicode.Scalar($0)) })
        else { return false }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != hyphen && label.last != hyphen
                && label.allSatisfy { $0 == hyphen || isASCIILetterOrDigit($0) }
        }
    }

    private static func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    package static func isValidUnicode(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, address.utf8.count <= 254 else { return false }
        let local = parts[0], domain = parts[1]
        guard (1...64).contains(local.utf8.count),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains(".."),
              local.unicodeScalars.allSatisfy(isLocalPartScalar)
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        }
    }

    private static func isLocalPartScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value > 0x7F { return scalar.properties.isAlphabetic || scalar.properties.numericType != nil }
        if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) { return true }
        return "!#$%&'*+-/=?^_`{|}~.".unicodeScalars.contains(scalar)
    }
}
