/// The one deadline a connection is waiting on. Each kind has a single configured duration, so
/// appending to a per-kind list keeps that list sorted by deadline: arming, re-arming and
/// cancelling are O(1) link updates and expiry only looks at list heads — no timer objects,
/// no heap, no per-connection allocation.
enum TimerKind: Int, CaseIterable {
    case none = -1
    /// Keep-alive connection waiting for its next request.
    case idle = 0
    /// First byte of a request received; waiting for the end of its header section.
    case header
    /// Header section received; waiting for the end of the body.
    case body
    /// Response bytes queued; the peer is not reading.
    case write
    /// Error response sent and write side shut; draining input before closing.
    case linger
    /// Request queued for a worker that has not picked it up yet (admission control).
    case queued

    /// Kinds with a list (all but `.none`), numbered 0..<armedCount.
    static let armedCount = 6
}
