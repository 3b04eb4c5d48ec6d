/// Base64 decoding (RFC 4648, section 4: the standard alphabet, with padding) over
/// bytes, for the Basic credentials of every `/v1` request.
enum Base64 {
    /// The decoded bytes, or nil when `text` is not base64: a length that is not a
    /// multiple of 4, a character outside the alphabet, or padding anywhere but at
    /// the end. Bits left over before the padding are ignored, as Foundation's
    /// decoder ignores them (RFC 4648 lets decoders accept them).
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var quantum: UInt32 = 0, filled = 0, padding = 0
        for byte in text {
            let value: UInt8
            if byte == UInt8(ascii: "=") {
                padding += 1
                value = 0
            } else {
                guard padding == 0, let decoded = sextet(byte) else { return nil }
                value = decoded
            }
            quantum = quantum << 6 | UInt32(value)
            filled += 1
            guard filled == 4 else { continue }
            guard padding <= 2 else { return nil }
            output.append(UInt8(truncatingIfNeeded: quantum >> 16))
            if padding < 2 { output.append(UInt8(truncatingIfNeeded: quantum >> 8)) }
            if padding < 1 { output.append(UInt8(truncatingIfNeeded: quantum)) }
            quantum = 0
            filled = 0
        }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
