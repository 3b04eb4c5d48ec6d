#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Server-assigned record ids: UUID version 7 (RFC 9562 §5.7), time-ordered so
/// new rows land at the end of the primary-key index instead of at random
/// places, which keeps inserts cheap. Rendered as the usual lower-case UUID text.
public enum RecordID {
    public static func make(now: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        // Two draws of 64 bits, not one per byte: each draw is a system call.
        var random = SystemRandomNumberGenerator()
        let high = random.next(), low = random.next()
        for index in 6..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * (index - 6))) }
        for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: low >> (8 * (index - 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// Parses a record id from a path; anything that is not a UUID is simply not found.
    public static func parse(_ text: String) -> UUID? {
        guard text.utf8.count == 36 else { return nil }
        return UUID(uuidString: text)
    }
}

extension UUID {
    /// Lower case, as PostgreSQL prints uuids and as the API returns them.
    /// Formatted directly: every record written and answered needs a few, and
    /// `uuidString.lowercased()` costs a formatted print and a Unicode lowercasing.
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { output in
                var written = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        output[written] = UInt8(ascii: "-")
                        written += 1
                    }
                    output[written] = Self.hexDigits[Int(byte >> 4)]
                    output[written + 1] = Self.hexDigits[Int(byte & 0x0F)]
                    written += 2
                }
                return written
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
