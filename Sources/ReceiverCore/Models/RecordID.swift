import Foundation
import Synchronization
import CSodium

/// Server-assigned record ids: UUID version 7 (RFC 9562 §5.7), time-ordered so
/// new rows land at the end of the primary-key index instead of at random
/// places, which keeps inserts cheap. Rendered as the usual lower-case UUID text.
public enum RecordID {
    public static func make(now: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var (high, low) = randomBits.next()
        // 48 bits of milliseconds, version 7, 12 random bits; then the RFC 9562
        // variant and 62 random bits.
        high = (milliseconds << 16) | 0x7000 | (high & 0x0FFF)
        low = 0x8000_0000_0000_0000 | (low & 0x3FFF_FFFF_FFFF_FFFF)
        return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { raw in
            UUID(uuid: raw.load(as: uuid_t.self))
        }
    }

    /// The system's CSPRNG (through libsodium) read 4 KiB at a time: an id needs
    /// 16 random bytes, and a `getrandom` per id was a system call per insert.
    private static let randomBits = RandomPool()

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

/// Random 128-bit values from the system's CSPRNG, read ahead in blocks.
private final class RandomPool: Sendable {
    private static let blockSize = 4096

    private let state = Mutex<(block: [UInt64], next: Int)>(([], 0))

    package func next() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 2 > state.block.count {
                state.block = Self.readBlock()
                state.next = 0
            }
            defer { state.next += 2 }
            return (state.block[state.next], state.block[state.next + 1])
        }
    }

    private static func readBlock() -> [UInt64] {
        CredentialSecrets.ensureInitialized()
        return [UInt64](unsafeUninitializedCapacity: blockSize / 8) { buffer, count in
            randombytes_buf(buffer.baseAddress!, blockSize)
            count = blockSize / 8
        }
    }
}
