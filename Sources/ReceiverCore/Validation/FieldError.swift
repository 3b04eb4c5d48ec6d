/// One invalid field of a request: the `errors[]` entries of an RFC 9457 problem.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    /// The field's path in the request body, dotted for nested fields (`address.country`).
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
