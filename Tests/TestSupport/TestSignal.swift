import Dispatch

/// A one-shot signal between test threads, with a timeout so a broken test fails
/// instead of hanging.
public final class TestSignal: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    public init() {}

    public func fire() { semaphore.signal() }

    public func wait(seconds: Double = 10) throws {
        guard semaphore.wait(timeout: .now() + seconds) == .success else {
            throw TestSetupError(description: "timed out after \(seconds) s waiting for another test thread")
        }
    }
}
