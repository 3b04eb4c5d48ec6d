import Dispatch
import Foundation
import Synchronization

/// Runs `body` on its own thread (blocking calls do not belong on the cooperative pool);
/// `join()` waits for it and returns its result or rethrows its error.
public final class TestThread<Value: Sendable>: Sendable {
    private final class Outcome: Sendable {
        let result = Mutex<Result<Value, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
    }

    private let outcome = Outcome()

    public init(_ body: @escaping @Sendable () throws -> Value) {
        let outcome = self.outcome
        let thread = Thread {
            let result = Result { try body() }
            outcome.result.withLock { $0 = result }
            outcome.finished.signal()
        }
        thread.start()
    }

    public func join() throws -> Value {
        outcome.finished.wait()
        return try outcome.result.withLock { $0! }.get()
    }
}
