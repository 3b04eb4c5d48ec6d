import Foundation
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// Record ids: UUID version 7, time-ordered, the rest random.
@Suite struct RecordIDTests {
    @Test func idsAreVersion7WithTheTimeUpFrontAndRandomBitsAfter() {
        let now = Date(timeIntervalSince1970: 1_764_000_000.123)
        let ids = (0..<2_000).map { _ in RecordID.make(now: now) }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let text = id.lowercasedString
            #expect(text.hasPrefix("019ab697-e87b-7"), "\(text)")  // 1764000000123 ms, then version 7
            #expect(["8", "9", "a", "b"].contains(text[text.index(text.startIndex, offsetBy: 19)]), "variant: \(text)")
        }
        // Every random bit takes both values somewhere among the ids.
        let bytes = ids.map { withUnsafeBytes(of: $0.uuid) { Array($0) } }
        let ones = bytes.reduce([UInt8](repeating: 0, count: 16)) { zip($0, $1).map { $0 | $1 } }
        let zeros = bytes.reduce([UInt8](repeating: 0xFF, count: 16)) { zip($0, $1).map { $0 & $1 } }
        #expect(ones[6] & 0x0F == 0x0F && zeros[6] & 0x0F == 0, "version byte's random nibble")
        #expect(ones[9...].allSatisfy { $0 == 0xFF } && zeros[9...].allSatisfy { $0 == 0 })
        #expect(ones[7] == 0xFF && zeros[7] == 0 && ones[8] == 0xBF && zeros[8] == 0x80)
        // Later ids sort after earlier ones.
        #expect(RecordID.make(now: now.addingTimeInterval(0.001)).lowercasedString > ids[0].lowercasedString)
    }
}
