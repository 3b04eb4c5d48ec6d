import Glibc

/// Request ids: validation of client-supplied ones and cheap generation of new ones.
enum RequestID {
    /// RFC-agnostic house rule: 1–200 characters of `[A-Za-z0-9._-]`, so the id is safe to log
    /// and echo without escaping.
    static func isWellFormed(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard !utf8.isEmpty && utf8.count <= 200 else { return false }
        return utf8.allSatisfy { ASCII.isAlphaNumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// A per-event-loop generator (not thread-safe; each loop owns one). xoshiro256** seeded
    /// from the kernel: `SystemRandomNumberGenerator` would cost a `getrandom` system call
    /// per id. Ids are correlation handles, not secrets.
    struct Generator {
        private var state: (UInt64, UInt64, UInt64, UInt64)

        init() {
            var system = SystemRandomNumberGenerator()
            state = (system.next(), system.next(), system.next(), system.next() | 1)
        }

        private mutating func next() -> UInt64 {
            let result = rotate(state.1 &* 5, 7) &* 9
            let t = state.1 << 17
            state.2 ^= state.0
            state.3 ^= state.1
            state.1 ^= state.2
            state.0 ^= state.3
            state.2 ^= t
            state.3 = rotate(state.3, 45)
            return result
        }

        private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

        /// 0-63 → A-Z a-z 0-9 - _ (arithmetic, not a shared table: see ``ASCII``).
        @inline(__always)
        private static func symbol(_ value: UInt64) -> UInt8 {
            let v = UInt8(truncatingIfNeeded: value)
            switch v {
            case 0..<26: return 0x41 + v
            case 26..<52: return 0x61 + v - 26
            case 52..<62: return 0x30 + v - 52
            case 62: return 0x2D
            default: return 0x5F
            }
        }

        /// 15 characters of a 64-symbol alphabet (90 bits). Fifteen bytes is the longest
        /// string Swift stores inline, so a new id allocates nothing.
        mutating func make() -> String {
            var bits = next()
            var more = next()
            var bytes: (UInt64, UInt64) = (0, 0)
            return withUnsafeMutableBytes(of: &bytes) { buffer in
                for index in 0..<15 {
                    if index == 10 { bits = more; more = 0 }
                    buffer[index] = Self.symbol(bits & 63)
                    bits >>= 6
                }
                return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<15]), as: UTF8.self)
            }
        }
    }
}
