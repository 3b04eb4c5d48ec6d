import Foundation

/// Where a reader of the change feed stands: every event at or before
/// (`positionXid`, `seq`) has been read. Opaque to readers (base64url text);
/// `micros`, the time of that position, tells whether retention has since
/// dropped events after it.
package struct FeedCursor: Sendable, Equatable {
    /// The `pos_xid` (a 64-bit transaction id) of the position.
    package var positionXid: UInt64
    package var seq: Int64
    /// Microseconds since the epoch of the position.
    package var micros: Int64

    /// Before every event.
    package static let start = FeedCursor(positionXid: 0, seq: 0, micros: Int64.min)

    package init(positionXid: UInt64, seq: Int64, micros: Int64) {
        (self.positionXid, self.seq, self.micros) = (positionXid, seq, micros)
    }

    /// Past every event below `horizon` (the oldest running transaction): nothing
    /// can ever appear there any more.
    package init(below horizon: UInt64, at micros: Int64) {
        self.init(positionXid: horizon > 0 ? horizon - 1 : 0, seq: Int64.max, micros: micros)
    }

    package var text: String {
        Data("1.\(positionXid).\(seq).\(micros)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil for text this server did not hand out.
    package init?(text: String) {
        guard (1...200).contains(text.utf8.count) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "1", let xid = UInt64(parts[1]), let seq = Int64(parts[2]), let micros = Int64(parts[3])
        else { return nil }
        self.init(positionXid: xid, seq: seq, micros: micros)
    }

    /// Whichever of two positions is further on.
    package static func furthest(_ a: FeedCursor, _ b: FeedCursor) -> FeedCursor {
        (a.positionXid, a.seq) >= (b.positionXid, b.seq) ? a : b
    }
}
