import Glibc

/// A failed socket operation, with the `errno` captured where it happened.
public struct SocketError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, coarsely, for callers that react differently.
    public enum Kind: Sendable, Equatable {
        /// The address (port) is already bound by another socket.
        case addressInUse
        /// The address is not local to this machine, or the address family is unsupported.
        case addressUnavailable
        /// Binding needs privileges this process does not have (ports below 1024).
        case permissionDenied
        /// The host name could not be resolved to an address.
        case resolutionFailed
        /// Any other system-call failure.
        case systemCall
    }

    /// The coarse kind of failure.
    public let kind: Kind
    /// The system call or step that failed, e.g. `"bind"`.
    public let operation: String
    /// The `errno` value (0 when not applicable).
    public let errno: Int32
    /// A sentence a user can act on.
    public let message: String

    public var description: String { message }

    init(kind: Kind, operation: String, errno: Int32, message: String) {
        self.kind = kind
        self.operation = operation
        self.errno = errno
        self.message = message
    }

    /// Captures `errno` now, at the throw site.
    static func makeFailed(_ operation: String, errno code: Int32 = Glibc.errno) -> SocketError {
        SocketError(
            kind: .systemCall, operation: operation, errno: code,
            message: "\(operation) failed: \(describe(errno: code)) (errno \(code))")
    }

    static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}
