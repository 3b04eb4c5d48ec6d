import Synchronization

/// A counter shared between test threads.
public final class TestCounter: Sendable {
    private let value = Mutex(0)

    public init() {}

    @discardableResult
    public func increment() -> Int { add(1) }

    @discardableResult
    public func decrement() -> Int { add(-1) }

    @discardableResult
    public func add(_ amount: Int) -> Int { value.withLock { $0 += amount; return $0 } }

    /// Records `candidate` if it is the largest seen.
    public func recordMaximum(_ candidate: Int) { value.withLock { $0 = max($0, candidate) } }

    public var current: Int { value.withLock { $0 } }
}
