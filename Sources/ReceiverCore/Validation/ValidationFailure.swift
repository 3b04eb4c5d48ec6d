/// A request body that failed validation: every bad field, for the problem's `errors[]`.
public struct ValidationFailure: Error, Sendable, Equatable {
    public let errors: [FieldError]
}
