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
        var random = SystemRandomNumberGenerator()
        for index in 6..<16 {
            bytes[index] = UInt8.random(in: 0...255, using: &random)
        }
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
    public var lowercasedString: String { uuidString.lowercased() }
}
