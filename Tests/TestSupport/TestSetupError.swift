/// A test could not be set up (no database, no free port, a helper process failed): the
/// message says what is missing and how to provide it.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}
